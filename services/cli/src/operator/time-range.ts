import { usageError } from '../errors.ts';

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `30s`, `5m`, `1h30m`, `7d` in milliseconds (the policy language's form), or null. */
function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m || text === '') return null;
  const [, d, h, min, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(sec ?? 0) * 1000;
}

/**
 * A point in time given as a duration before now (`30m`, `7d`, `1h30m`) or as an ISO 8601
 * date or date-time (`2026-05-01`, `2026-05-01T12:00:00Z`). Returns ISO 8601 in UTC.
 */
export function pointInTime(option: string, text: string, now = Date.now()): string {
  const ms = parseDuration(text);
  if (ms !== null && ms > 0) return new Date(now - ms).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw usageError(`--${option} ${JSON.stringify(text.slice(0, 60))} is not a duration or a date`, `use a duration before now (30m, 7d, 1h30m) or an ISO date (2026-05-01T12:00:00Z)`);
}

/** `--since`/`--until` as ISO times, checked to be in order. */
export function timeRange(since: string | undefined, until: string | undefined, now = Date.now()): { since: string | null; until: string | null } {
  const s = since === undefined ? null : pointInTime('since', since, now);
  const u = until === undefined ? null : pointInTime('until', until, now);
  if (s && u && s >= u) throw usageError(`--since (${s}) must be before --until (${u})`);
  return { since: s, until: u };
}

/** `4m 12s`, `1h 03m`, `2d 4h`: a time left, for people. */
export function formatTimeLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
