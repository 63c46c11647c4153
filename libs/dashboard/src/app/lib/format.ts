/** "4m 05s left", "expired 12s ago": time until a deadline, for the approvals inbox. */
export function timeLeft(deadlineIso: string, now: number): { text: string; expired: boolean; urgent: boolean } {
  const ms = Date.parse(deadlineIso) - now;
  if (Number.isNaN(ms)) return { text: 'unknown deadline', expired: false, urgent: false };
  if (ms <= 0) return { text: `expired ${duration(-ms)} ago`, expired: true, urgent: true };
  return { text: `${duration(ms)} left`, expired: false, urgent: ms < 60_000 };
}

/** A compact duration: `850 ms`, `12s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds with a sensible precision: `0.42 ms`, `12 ms`, `1.2 s`. */
export function millis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A timestamp in the viewer's locale with seconds, plus the ISO form for a title/tooltip. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Shortens a digest or id for display: `sha256:ab12cd…` keeps the prefix and 12 characters. */
export function short(v: string | null | undefined, keep = 12): string {
  if (!v) return '–';
  const colon = v.indexOf(':');
  const prefix = colon > 0 && colon < 10 ? v.slice(0, colon + 1) : '';
  const rest = v.slice(prefix.length);
  return rest.length <= keep ? v : `${prefix}${rest.slice(0, keep)}…`;
}

/** A JSON value as indented text, for parameters. */
export function pretty(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2);
}
