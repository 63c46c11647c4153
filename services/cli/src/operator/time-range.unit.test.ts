import { describe, expect, it } from 'vitest';
import { formatTimeLeft, pointInTime, timeRange } from './time-range.ts';

const NOW = Date.parse('2026-05-10T12:00:00.000Z');

describe('times on the command line', () => {
  it('reads a duration before now or an ISO date', () => {
    expect(pointInTime('since', '7d', NOW)).toBe('2026-05-03T12:00:00.000Z');
    expect(pointInTime('since', '1h30m', NOW)).toBe('2026-05-10T10:30:00.000Z');
    expect(pointInTime('since', '2026-05-01', NOW)).toBe('2026-05-01T00:00:00.000Z');
    expect(pointInTime('until', '2026-05-01T14:00:00+02:00', NOW)).toBe('2026-05-01T12:00:00.000Z');
  });
  it('refuses anything else with the forms it takes, and an inverted range', () => {
    for (const bad of ['last week', '0s', '7 days', '2026-13-45', '-1d', '']) {
      expect(() => pointInTime('since', bad, NOW), bad).toThrow(/is not a duration or a date/);
    }
    expect(() => timeRange('1h', '2h', NOW)).toThrow(/--since \(2026-05-10T11:00:00.000Z\) must be before --until \(2026-05-10T10:00:00.000Z\)/);
    expect(timeRange(undefined, undefined, NOW)).toEqual({ since: null, until: null });
  });
  it('says how long an approval has left the way people read it', () => {
    expect(formatTimeLeft(0)).toBe('expired');
    expect(formatTimeLeft(42_500)).toBe('42s');
    expect(formatTimeLeft(4 * 60_000 + 7_000)).toBe('4m 07s');
    expect(formatTimeLeft(3 * 3_600_000 + 5 * 60_000)).toBe('3h 05m');
    expect(formatTimeLeft(2 * 86_400_000 + 4 * 3_600_000)).toBe('2d 4h');
  });
});
