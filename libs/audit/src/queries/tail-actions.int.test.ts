import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventFactory } from '../testing/index.ts';
import { createAuditTestEnv, caughtUp, type AuditTestEnv } from '../test/setup.ts';
import { runReadModelProjection } from '../projection/run-processors.ts';
import { tailActions } from './tail-actions.ts';
import type { ActionRow } from './actions.ts';

describe('tailActions', () => {
  let env: AuditTestEnv;
  let current: string | null = null;
  const ctl = new AbortController();
  let projecting: Promise<void>;
  beforeAll(async () => {
    env = await createAuditTestEnv('audit_tail');
    projecting = runReadModelProjection({ pool: env.pool, store: env.store, checkpoints: env.store.processors, signal: ctl.signal, onApplied: (b) => (current = b.checkpoint) });
  });
  afterAll(async () => {
    ctl.abort();
    await projecting;
    await env?.dispose();
  });

  it('yields each new action once, including one projected late with an earlier request time', async () => {
    const now = Date.now();
    const f = createEventFactory({ seed: 1, start: new Date(now - 60_000) });
    await env.record(f.action({ agentId: 'agent-old' }));
    await caughtUp(env, () => current);
    const stop = new AbortController();
    const seen: ActionRow[] = [];
    const tail = (async () => {
      for await (const r of tailActions(env.db, { pollMs: 50, signal: stop.signal, filter: { gatewayId: 'gw-main' } })) seen.push(r);
    })();
    const live = createEventFactory({ seed: 2, start: new Date(now + 1000) });
    const a = live.action({ agentId: 'agent-new' });
    const b = live.action({ agentId: 'agent-new' });
    await env.record([...a, ...b]);
    const until = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (seen.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    };
    await until(2);
    // Projected after the tail moved past it: requested before a and b (a slow writer).
    const late = createEventFactory({ seed: 3, start: new Date(now + 500) }).action({ agentId: 'agent-late' });
    await env.record(late);
    await env.record(live.action({ agentId: 'agent-new', gatewayId: 'gw-other' }));
    await until(3);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    await tail;
    const ids = (evs: typeof a) => (evs[0]!.data as { actionId: string }).actionId;
    expect(seen.map((r) => r.action_id)).toEqual([ids(a), ids(b), ids(late)]);
  });
});
