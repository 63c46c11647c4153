import { CelScalar, celMethod, objectType, type CelFunc } from '@bufbuild/cel';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';

/**
 * Timestamp accessors (`now.getHours("Europe/Paris")`...) replacing the library's, which build
 * dates in the host's local time zone (so a decision could depend on the machine that made it)
 * and create an Intl formatter per call (hundreds of µs). These compute in UTC arithmetic, with
 * one cached formatter per IANA zone, so a decision recomputes the same anywhere.
 */

const TIMESTAMP = objectType(TimestampSchema);
const FIXED_OFFSET = /^([+-]?)(\d\d):(\d\d)$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in `tz` as a UTC-based Date (read it with the getUTC* methods). */
function wallClock(ms: number, tz: string | undefined): Date {
  if (tz === undefined || tz === 'UTC') return new Date(ms);
  const fixed = FIXED_OFFSET.exec(tz);
  if (fixed) {
    const offset = (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
    return new Date(ms + (fixed[1] === '-' ? -offset : offset));
  }
  let f = formatters.get(tz);
  if (!f) {
    // Throws RangeError for an unknown zone: the condition fails and the request is denied.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size < 1000) formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return new Date(Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!, ((ms % 1000) + 1000) % 1000));
}

function dayOfYear(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
}

const FIELDS: [string, (d: Date) => number][] = [
  ['getFullYear', (d) => d.getUTCFullYear()],
  ['getMonth', (d) => d.getUTCMonth()],
  ['getDate', (d) => d.getUTCDate()],
  ['getDayOfMonth', (d) => d.getUTCDate() - 1],
  ['getDayOfWeek', (d) => d.getUTCDay()],
  ['getDayOfYear', dayOfYear],
  ['getHours', (d) => d.getUTCHours()],
  ['getMinutes', (d) => d.getUTCMinutes()],
  ['getSeconds', (d) => d.getUTCSeconds()],
  ['getMilliseconds', (d) => d.getUTCMilliseconds()],
];

type TimestampValue = { message: { seconds: bigint; nanos: number } };
const msOf = (t: TimestampValue) => Number(t.message.seconds) * 1000 + Math.floor(t.message.nanos / 1e6);

export const timeFuncs: CelFunc[] = FIELDS.flatMap(([name, field]) => [
  celMethod(name, TIMESTAMP, [], CelScalar.INT, function (this: unknown) {
    return BigInt(field(wallClock(msOf(this as TimestampValue), undefined)));
  }),
  celMethod(name, TIMESTAMP, [CelScalar.STRING], CelScalar.INT, function (this: unknown, tz: string) {
    return BigInt(field(wallClock(msOf(this as TimestampValue), tz)));
  }),
]);
