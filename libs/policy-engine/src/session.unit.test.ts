import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileBundle } from './compile-bundle.ts';
import { PolicyErrorCode } from './errors.ts';
import { evaluate } from './evaluate.ts';
import {
  appendSessionEntry,
  computeSession,
  decodeSessionState,
  sessionStateOf,
  SESSION_ENTRY_LIMIT,
  sessionEntryFor,
  sessionKey,
  sessionOverflowResult,
  type SessionEntry,
} from './session.ts';
import { input, RUN_ID } from './test-fixtures.ts';

const bundle = compileBundle(
  stringify({
    version: 1,
    aggregates: {
      refunds_hour: { scope: 'agent', window: '1h', actions: ['stripe.refund.create'], count: true },
      refunded_run: { scope: 'run', window: '1d', actions: ['stripe.refund.*'], sum: 'amount' },
    },
    rules: [
      { id: 'burst', effect: 'deny', match: { actions: ['stripe.refund.create'] }, when: 'session.refunds_hour >= 5' },
      { id: 'total', effect: 'require_approval', match: { actions: ['stripe.refund.create'] }, when: 'session.refunded_run + action.params.amount > 1000' },
      { id: 'ok', effect: 'allow', match: { actions: ['stripe.**'] } },
    ],
  }),
  { version: 1 },
);
const T0 = Date.parse('2025-06-02T09:00:00.000Z');
const refund = (amount: number, minutes: number, runId = RUN_ID) =>
  input('stripe.refund.create', { runId, time: new Date(T0 + minutes * 60_000).toISOString(), action: { params: { amount } } });

describe('session aggregates', () => {
  it('count and sum allowed actions within the window, per agent or per run', () => {
    let entries: SessionEntry[] = [];
    const otherRun = '01900000-0000-7000-8000-0000000000ff';
    const history = [refund(100, 0), refund(200, 10, otherRun), refund(300, 50), refund(400, 70)];
    history.forEach((i, n) => {
      entries = appendSessionEntry(bundle, entries, sessionEntryFor(bundle, i, `a${n}`)!)!;
    });
    const at80 = refund(1, 80);
    expect(computeSession(bundle, ['refunds_hour', 'refunded_run'], entries, at80)).toEqual({
      // 20 past the hour: the refunds at minutes 50 and 70 (the one at 10 fell out of the hour).
      refunds_hour: 2,
      // This run only: 100 + 300 + 400.
      refunded_run: 800,
    });
    expect(computeSession(bundle, ['refunded_run'], entries, refund(1, 80, otherRun))).toEqual({ refunded_run: 200 });
    expect(computeSession(bundle, [], entries, at80)).toEqual({});
  });

  it('the sixth refund in an hour is denied, and a running total past the limit needs approval', () => {
    let entries: SessionEntry[] = [];
    const decide = (i: ReturnType<typeof refund>, id: string) => {
      const full = { ...i, session: computeSession(bundle, bundle.sessionNeeds(i), entries, i) };
      const r = evaluate(bundle, full);
      if (r.decision === 'allow') entries = appendSessionEntry(bundle, entries, sessionEntryFor(bundle, full, id)!)!;
      return r;
    };
    expect([1, 2, 3, 4, 5].map((m) => decide(refund(10, m), `r${m}`).decision)).toEqual(['allow', 'allow', 'allow', 'allow', 'allow']);
    expect(decide(refund(10, 6), 'r6')).toMatchObject({ decision: 'deny', decidingRule: 'burst' });
    // An hour after the first, one slot is free again.
    expect(decide(refund(10, 61), 'r7').decision).toBe('allow');
    expect(decide(refund(990, 62), 'r8')).toMatchObject({ decision: 'require_approval', decidingRule: 'total' });
  });

  it('only tracked action types make entries; sums keep only numeric parameters', () => {
    expect(sessionEntryFor(bundle, input('github.pr.merge'), 'x')).toBeNull();
    expect(bundle.tracks('github.pr.merge')).toBe(false);
    expect(bundle.tracks('stripe.refund.cancel')).toBe(true);
    expect(sessionEntryFor(bundle, input('stripe.refund.create', { action: { params: { amount: 'lots' } } }), 'x')).toEqual({
      id: 'x',
      at: Date.parse('2025-06-02T09:30:00.000Z'),
      run: RUN_ID,
      type: 'stripe.refund.create',
    });
  });

  it('drops entries older than the longest window and keeps time order', () => {
    const e = (id: string, at: number): SessionEntry => ({ id, at, run: RUN_ID, type: 'stripe.refund.create' });
    const day = 24 * 3600_000;
    const kept = appendSessionEntry(bundle, [e('old', T0 - day - 1), e('a', T0 - 1000), e('c', T0 + 5000)], e('b', T0))!;
    expect(kept.map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('refuses to grow past the limit, and the overflow becomes a recorded deny', () => {
    const full = Array.from({ length: SESSION_ENTRY_LIMIT }, (_, i): SessionEntry => ({ id: `e${i}`, at: T0 + i, run: RUN_ID, type: 'stripe.refund.create' }));
    expect(appendSessionEntry(bundle, full, { id: 'x', at: T0 + SESSION_ENTRY_LIMIT, run: RUN_ID, type: 'stripe.refund.create' })).toBeNull();
    const allowed = evaluate(bundle, { ...refund(1, 0), session: { refunds_hour: 0, refunded_run: 0 } });
    expect(sessionOverflowResult(allowed)).toMatchObject({ decision: 'deny', error: { code: PolicyErrorCode.SessionOverflow } });
  });

  it('round-trips through its KV encoding and refuses anything else', () => {
    const entries: SessionEntry[] = [{ id: 'a', at: 1, run: RUN_ID, type: 't.x', n: { amount: 5 } }];
    expect(decodeSessionState(JSON.stringify(sessionStateOf(entries)))).toEqual(entries);
    expect(decodeSessionState(sessionStateOf(entries))).toEqual(entries);
    expect(() => decodeSessionState('{"v":2,"entries":[]}')).toThrow(/not a session state/);
    expect(() => decodeSessionState('{"v":1,"entries":[{"id":1}]}')).toThrow(/malformed/);
    expect(() => decodeSessionState('nope')).toThrow();
    expect(() => decodeSessionState(null)).toThrow(/not a session state/);
    expect(sessionKey('default', 'agent-1')).toBe('default.agent.agent-1');
  });
});
