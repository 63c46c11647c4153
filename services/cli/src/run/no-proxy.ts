/**
 * Keeps NO_PROXY from letting a governed host bypass the gateway: drops `*` and every entry
 * that would match one of the gateway's connector domains (`github.com`, `.github.com`,
 * `api.github.com`, `*.stripe.com`...). Other entries (an internal service) are kept.
 */
export function filterNoProxy(value: string | undefined, governed: readonly string[]): { value: string; removed: string[] } {
  const entries = (value ?? '').split(/[\s,]+/).filter(Boolean);
  const kept: string[] = [];
  const removed: string[] = [];
  const hosts = governed.map((d) => d.toLowerCase().replace(/:\d+$/, ''));
  for (const raw of entries) {
    const e = raw.toLowerCase().replace(/:\d+$/, '').replace(/^\*?\./, '');
    const bypasses =
      raw === '*' ||
      hosts.some((h) => {
        const host = h.replace(/^\*\./, '');
        // The entry covers the host (a suffix), or the governed wildcard covers the entry.
        return host === e || host.endsWith(`.${e}`) || (h.startsWith('*.') && e.endsWith(`.${host}`));
      });
    (bypasses ? removed : kept).push(raw);
  }
  return { value: kept.join(','), removed };
}
