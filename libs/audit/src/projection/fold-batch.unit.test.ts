import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { createEventFactory } from '../testing/index.ts';
import { foldBatch, minuteBucket, requestUrl } from './fold-batch.ts';

const asProjectable = (events: unknown[]) => events.map((envelope, i) => ({ envelope, checkpoint: `cp-${i}` }));

describe('foldBatch', () => {
  it('merges the events of one action into one write, one column group per event type', () => {
    const f = createEventFactory();
    const events = f.action({ decision: 'allow', credential: true });
    const plan = foldBatch(asProjectable(events));
    expect(plan.actions.size).toBe(1);
    const w = [...plan.actions.values()][0]!;
    expect(Object.keys(w.groups).sort()).toEqual(['completed', 'credential', 'decided', 'requested']);
    expect(w.groups.decided!.decision).toBe('allow');
    expect(w.groups.requested!.url).toMatch(/^https:\/\/api\./);
    expect(plan.credentialUses).toHaveLength(1);
    expect(plan.ordered).toHaveLength(0);
    const run = [...plan.runs.values()][0]!;
    expect(run).toMatchObject({ actions_total: 1, decisions_allow: 1, decisions_deny: 0 });
  });

  it('keeps the last event of a type when an action sees it twice in a batch', () => {
    const f = createEventFactory();
    const [req, decided] = f.action({ decision: 'deny' });
    const again = structuredClone(decided!) as typeof decided & { id: string; data: { decision: string; reason: string } };
    again.id = '0196a000-0000-7000-8000-000000000099';
    again.data.decision = 'allow';
    again.data.reason = 'second decision';
    const plan = foldBatch(asProjectable([req, decided, again]));
    expect([...plan.actions.values()][0]!.groups.decided).toMatchObject({ decision: 'allow', reason: 'second decision' });
    // Decision counts count decisions (events), not actions.
    expect([...plan.decisionCounts.values()].reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('names the first event that is not a valid catalog event and folds nothing', () => {
    const f = createEventFactory();
    const good = f.action();
    const bad = { ...good[1]!, data: { ...(good[1]!.data as object), decision: 'maybe' } };
    let err: unknown;
    try {
      foldBatch(asProjectable([good[0], bad, good[2]]));
    } catch (e) {
      err = e;
    }
    expect(isTameFlareError(err, 'TF_ERR_AUDIT_PROJECTION')).toBe(true);
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({ eventId: good[1]!.id, eventType: 'ActionDecided', checkpoint: 'cp-1' });
    expect(() => foldBatch(asProjectable([{ ...good[0]!, type: 'SomethingNew' }]))).toThrow(/unknown event type "SomethingNew"/);
  });

  it('sends low-rate events to the ordered list and links approvals to their action', () => {
    const f = createEventFactory();
    const [requested] = f.action({ decision: 'require_approval' });
    const actionId = (requested!.data as { actionId: string }).actionId;
    const approval = f.approval({ actionId, outcome: 'granted' });
    const plan = foldBatch(asProjectable(approval));
    expect(plan.ordered.map((o) => o.event.type)).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalGranted']);
    expect(plan.actions.get(actionId)!.groups.approvalLink).toEqual({ approval_id: (approval[0]!.data as { approvalId: string }).approvalId });
  });
});

describe('helpers', () => {
  it('builds the request URL without default ports', () => {
    expect(requestUrl({ scheme: 'https', host: 'api.github.com', port: 443, path: '/repos/a/b', query: 'x=1' })).toBe('https://api.github.com/repos/a/b?x=1');
    expect(requestUrl({ scheme: 'http', host: '::1', port: 8080, path: '/', query: '' })).toBe('http://[::1]:8080/');
  });
  it('buckets times by minute', () => {
    expect(minuteBucket('2026-05-01T12:34:56.789Z')).toBe('2026-05-01T12:34:00.000Z');
  });
});
