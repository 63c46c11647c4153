const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses a duration written the way ops engineers write them: `30s`, `5m`, `1h`, `1h30m`, `7d`.
 * Returns milliseconds, or null when the text is not such a duration.
 */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === '') return null;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}

/** The shortest readable form of a duration in milliseconds (`1h30m`, `45s`). */
export function formatDuration(ms: number): string {
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.join('') || '0s';
}
