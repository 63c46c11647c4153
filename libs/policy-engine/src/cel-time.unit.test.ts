import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileBundle } from './compile-bundle.ts';
import { evaluate } from './evaluate.ts';
import { input } from './test-fixtures.ts';

/** Evaluates `now.<method>(<tz>)` == expected through a real bundle. */
function holds(expr: string, time: string): boolean {
  const b = compileBundle(stringify({ version: 1, rules: [{ id: 't', effect: 'allow', match: { actions: ['**'] }, when: expr }] }));
  const r = evaluate(b, input('x.y', { time }));
  if (r.error) throw new Error(r.error.message);
  return r.decision === 'allow';
}

/** The reference: what Intl says the wall clock is in a zone. */
function intlParts(ms: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' }).formatToParts(ms);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { year: Number(get('year')), month: Number(get('month')) - 1, day: Number(get('day')), hour: Number(get('hour')), minute: Number(get('minute')), weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')) };
}

describe('time in conditions', () => {
  it('agrees with Intl in IANA zones, across DST changes, whatever the host time zone', () => {
    const zones = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), fc.constantFrom(...zones), (ms, tz) => {
        const time = new Date(ms).toISOString();
        const p = intlParts(ms, tz);
        expect(holds(`now.getHours("${tz}") == ${p.hour} && now.getMinutes("${tz}") == ${p.minute}`, time)).toBe(true);
        expect(holds(`now.getFullYear("${tz}") == ${p.year} && now.getMonth("${tz}") == ${p.month} && now.getDate("${tz}") == ${p.day}`, time)).toBe(true);
        expect(holds(`now.getDayOfMonth("${tz}") == ${p.day - 1} && now.getDayOfWeek("${tz}") == ${p.weekday}`, time)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reads UTC without an argument, fixed offsets, and the day of the year', () => {
    const t = '2025-03-01T23:30:15.250Z';
    expect(holds('now.getHours() == 23 && now.getMinutes() == 30 && now.getSeconds() == 15 && now.getMilliseconds() == 250', t)).toBe(true);
    expect(holds('now.getHours("+02:00") == 1 && now.getDate("+02:00") == 2 && now.getMonth("+02:00") == 2', t)).toBe(true);
    expect(holds('now.getHours("-05:30") == 18 && now.getMinutes("-05:30") == 0', t)).toBe(true);
    expect(holds('now.getDayOfYear() == 59', t)).toBe(true);
    expect(holds('now.getDayOfYear() == 0', '2024-01-01T00:00:00.000Z')).toBe(true);
  });

  it('an unknown time zone is an evaluation error, so the request is denied', () => {
    const b = compileBundle(stringify({ version: 1, rules: [{ id: 't', effect: 'allow', match: { actions: ['**'] }, when: 'now.getHours("Mars/Olympus") > 1' }] }));
    expect(evaluate(b, input('x.y')).error?.code).toBe('TF_ERR_POLICY_EVALUATION');
  });
});
