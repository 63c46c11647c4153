import { isValidName } from '@tameflare/contracts';
import { AuditError, AuditErrorCode } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function bad(message: string): AuditError {
  return new AuditError(AuditErrorCode.InvalidFilter, message);
}

/** An agent, gateway or connector id as a filter value. */
export function nameFilter(field: string, v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (!isValidName(v)) throw bad(`${field} ${JSON.stringify(v.slice(0, 80))} is not a valid id (lowercase letters, digits, - and _)`);
  return v;
}

/** A UUID (run, action, approval id) as a filter value. */
export function uuidFilter(field: string, v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (!UUID.test(v)) throw bad(`${field} ${JSON.stringify(v.slice(0, 80))} is not a UUID`);
  return v;
}

/** One of a fixed set of values. */
export function oneOf<T extends string>(field: string, allowed: readonly T[], v: readonly string[] | null | undefined): T[] | null {
  if (v === null || v === undefined) return null;
  for (const x of v) {
    if (!allowed.includes(x as T)) throw bad(`unknown ${field} ${JSON.stringify(String(x).slice(0, 40))}: use one of ${allowed.join(', ')}`);
  }
  if (v.length === 0) throw bad(`${field} must list at least one value`);
  return v as T[];
}

/** A `[since, until)` time range; both optional, ISO 8601. */
export function timeRange(since: string | null | undefined, until: string | null | undefined): { since: string | null; until: string | null } {
  const parse = (name: string, v: string | null | undefined) => {
    if (v === null || v === undefined) return null;
    const ms = Date.parse(v);
    if (typeof v !== 'string' || Number.isNaN(ms)) throw bad(`${name} is not a date-time: ${JSON.stringify(String(v).slice(0, 50))}`);
    return new Date(ms).toISOString();
  };
  const s = parse('since', since);
  const u = parse('until', until);
  if (s && u && s >= u) throw bad(`since (${s}) must be before until (${u})`);
  return { since: s, until: u };
}
