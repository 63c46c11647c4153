import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTameFlareError, sha256Hex, uuidv7, validateEvent, type TameFlareEvent } from '@tameflare/contracts';
import type { RecordedEvent } from '@tameflare/event-store';
import { createEventFactory } from '../testing/index.ts';
import { createAuditTestEnv, caughtUp, type AuditTestEnv } from '../test/setup.ts';
import { rebuildReadModels, replayReadModels } from '../replay/replay-read-models.ts';
import { dumpReadModels } from '../replay/dump-read-models.ts';
import { READ_MODEL_SCHEMA, REBUILD_SCHEMA } from '../db/schemas.ts';
import { runReadModelProjection, ProcessorIds } from './run-processors.ts';
import { decisionPairOf } from '../queries/recorded-decisions.ts';

/** One writer's share of a realistic history: runs, actions (some needing approval), control events. */
function writerHistory(seed: number, actions: number): TameFlareEvent[][] {
  const f = createEventFactory({ seed, start: new Date(Date.parse('2026-05-01T12:00:00Z') + seed * 7) });
  const out: TameFlareEvent[][] = [];
  const agentId = `agent-${seed}`;
  const run = f.runStarted({ agentId, gatewayId: 'gw-main' });
  const runId = (run.data as { runId: string }).runId;
  out.push([run]);
  for (let i = 0; i < actions; i++) {
    const events = f.action({ agentId, runId, gatewayId: i % 3 === 0 ? 'gw-edge' : 'gw-main' });
    // The recorder appends in whatever order JetStream delivered: a decision may come first.
    if (i % 4 === 1) [events[0], events[1]] = [events[1]!, events[0]!];
    out.push(events);
    const decided = events.find((e) => e.type === 'ActionDecided')!;
    if ((decided.data as { decision: string }).decision === 'require_approval') {
      out.push(f.approval({ actionId: (decided.data as { actionId: string }).actionId, agentId, runId, outcome: (['granted', 'denied', 'expired', 'pending'] as const)[i % 4] }));
    }
    if (i % 25 === 0) {
      out.push([
        f.event('KillSwitchEngaged', { killSwitchId: uuidv7(), scope: { kind: 'agent', value: agentId }, reason: 'test', engagedBy: 'ops' }),
      ]);
    }
  }
  out.push([f.runEnded({ runId, agentId, gatewayId: 'gw-main' })]);
  return out;
}

function controlHistory(): TameFlareEvent[][] {
  const f = createEventFactory({ seed: 999 });
  const tokenId = uuidv7();
  return [
    [f.event('GatewayCreated', { gatewayId: 'gw-main', name: 'Main', mode: 'enforce', createdBy: 'admin' })],
    [f.event('GatewayModeChanged', { gatewayId: 'gw-main', mode: 'monitor', changedBy: 'admin' })],
    [f.event('PolicyBundlePublished', { gatewayId: 'gw-main', version: 1, hash: sha256Hex('p1'), source: 'rules: []\n', ruleCount: 0, publishedBy: 'ci' })],
    [f.event('PolicyBundlePublished', { gatewayId: 'gw-main', version: 2, hash: sha256Hex('p2'), source: 'rules:\n  - id: a\n', ruleCount: 1, publishedBy: 'ci' })],
    [f.event('ConnectorConfigured', { gatewayId: 'gw-main', connectorId: 'github', kind: 'github', secretName: 'github-token', injection: { kind: 'bearer' }, domains: [], options: {}, configuredBy: 'admin' })],
    [f.event('SecretStored', { gatewayId: 'gw-main', secretId: uuidv7(), name: 'github-token', version: 1, byteLength: 40, source: 'stdin', masterKeyId: 'mk1', storedBy: 'admin' })],
    [f.event('ApiTokenIssued', { tokenId, name: 'alice', role: 'approver', tokenHash: sha256Hex('t'), issuedBy: 'admin' })],
    [f.event('ApiTokenRevoked', { tokenId, revokedBy: 'admin' })],
  ];
}

async function readHistory(env: AuditTestEnv): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await env.store.readAll({ after, limit: 5000 });
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1]!.checkpoint;
  }
}

describe('read-model projection on PostgreSQL', () => {
  let env: AuditTestEnv;
  let current: string | null = null;
  let applied = 0;
  let ctl: AbortController;
  let running: Promise<void>;
  const start = () => {
    ctl = new AbortController();
    running = runReadModelProjection({
      pool: env.pool,
      store: env.store,
      checkpoints: env.store.processors,
      signal: ctl.signal,
      batchSize: 37,
      onApplied: (b) => {
        current = b.checkpoint;
        applied += b.events;
      },
    });
  };

  beforeAll(async () => {
    env = await createAuditTestEnv('audit_projection');
    for (const batch of controlHistory()) await env.record(batch);
  });
  afterAll(async () => {
    ctl?.abort();
    await running?.catch(() => undefined);
    await env?.dispose();
  });

  it('matches the event history exactly under four concurrent writers', async () => {
    start();
    await Promise.all([1, 2, 3, 4].map(async (seed) => {
      for (const events of writerHistory(seed, 60)) await env.record(events);
    }));
    await caughtUp(env, () => current);
    const history = await readHistory(env);
    expect(applied).toBe(history.length);

    const byType = (t: string) => history.filter((r) => r.event.type === t).map((r) => r.event as TameFlareEvent & { data: Record<string, any> });
    const actions = await env.db.selectFrom('actions').selectAll().execute();
    const requested = byType('ActionRequested');
    expect(actions).toHaveLength(new Set(requested.map((e) => e.data.actionId)).size);
    const rows = new Map(actions.map((a) => [a.action_id, a]));
    const lastOf = (t: string) => new Map(byType(t).map((e) => [e.data.actionId as string, e]));
    for (const [id, e] of lastOf('ActionRequested')) {
      expect(rows.get(id)).toMatchObject({ requested_event_id: e.id, action_type: e.data.action.type, agent_id: e.data.agentId, run_id: e.data.runId });
      expect(Date.parse(rows.get(id)!.requested_at!)).toBe(Date.parse(e.time));
    }
    for (const [id, e] of lastOf('ActionDecided')) expect(rows.get(id)).toMatchObject({ decision: e.data.decision, decided_event_id: e.id, policy_version: 3, matched_rules: e.data.matchedRules });
    for (const [id, e] of lastOf('ActionCompleted')) expect(rows.get(id)).toMatchObject({ outcome: e.data.outcome, status: e.data.status, completed_event_id: e.id });
    // The row keeps every field of the request and the decision: the envelopes rebuild exactly (what policyBacktest relies on).
    const decidedById = lastOf('ActionDecided');
    for (const [id, e] of lastOf('ActionRequested')) {
      const pair = decisionPairOf(rows.get(id)!)!;
      expect(pair.requested).toMatchObject({ id: e.id, type: e.type, data: e.data });
      expect(Date.parse((pair.requested as { time: string }).time)).toBe(Date.parse(e.time));
      expect(validateEvent(pair.requested).data).toEqual(e.data);
      expect(validateEvent(pair.decided).data).toEqual(decidedById.get(id)!.data);
    }

    const uses = await env.db.selectFrom('credential_uses').select('event_id').execute();
    expect(uses.map((u) => u.event_id).sort()).toEqual(byType('CredentialReleased').map((e) => e.id).sort());

    const runs = await env.db.selectFrom('agent_runs').selectAll().execute();
    const sum = (k: 'actions_total' | 'decisions_allow' | 'decisions_deny' | 'decisions_require_approval') => runs.reduce((n, r) => n + Number(r[k]), 0);
    const decisions = byType('ActionDecided');
    expect(sum('actions_total')).toBe(requested.length);
    expect(sum('decisions_allow')).toBe(decisions.filter((d) => d.data.decision === 'allow').length);
    expect(sum('decisions_deny')).toBe(decisions.filter((d) => d.data.decision === 'deny').length);
    expect(sum('decisions_require_approval')).toBe(decisions.filter((d) => d.data.decision === 'require_approval').length);
    expect(runs.every((r) => r.started_at !== null && r.ended_at !== null)).toBe(true);
    const counted = await env.db.selectFrom('decision_counts').select((eb) => eb.fn.sum<string>('count').as('n')).executeTakeFirstOrThrow();
    expect(Number(counted.n)).toBe(decisions.length);

    const approvals = await env.db.selectFrom('approvals').selectAll().execute();
    expect(approvals).toHaveLength(byType('ApprovalRequested').length);
    const finalStatus = new Map<string, string>();
    for (const e of history.map((r) => r.event as TameFlareEvent & { data: Record<string, any> })) {
      const s = { ApprovalRequested: 'pending', ApprovalGranted: 'granted', ApprovalDenied: 'denied', ApprovalExpired: 'expired' }[e.type as string];
      if (s) finalStatus.set(e.data.approvalId, s);
    }
    for (const a of approvals) expect(a.status).toBe(finalStatus.get(a.approval_id));
    const votes = await env.db.selectFrom('approval_votes').select('event_id').execute();
    expect(votes).toHaveLength(byType('ApprovalVoteRecorded').length + byType('ApprovalVoteRefused').length);
    expect(await env.db.selectFrom('kill_switch_changes').select('event_id').execute()).toHaveLength(byType('KillSwitchEngaged').length);
    expect(await env.db.selectFrom('policy_versions').select('version').orderBy('version').execute()).toEqual([{ version: 1 }, { version: 2 }]);
    expect(await env.db.selectFrom('gateways').select(['gateway_id', 'mode']).execute()).toEqual([{ gateway_id: 'gw-main', mode: 'monitor' }]);
    expect(await env.db.selectFrom('api_tokens').select(['name', 'revoked_by']).execute()).toEqual([{ name: 'alice', revoked_by: 'admin' }]);
  }, 120_000);

  it('a rebuild from scratch is byte-identical to the live projection', async () => {
    const rebuilt = await rebuildReadModels({ pool: env.pool, store: env.store, batchSize: 211 });
    expect(rebuilt.checkpoint).toBe(current);
    const live = await dumpReadModels(env.pool, READ_MODEL_SCHEMA);
    const again = await dumpReadModels(env.pool, REBUILD_SCHEMA);
    expect(Object.keys(live).length).toBeGreaterThanOrEqual(14);
    expect(live.actions!.rows).toBeGreaterThan(200);
    for (const table of Object.keys(live)) expect(again[table]!.text, table).toBe(live[table]!.text);
    // The rebuild drops secondary indexes while it loads and builds them again at the end: same set.
    const indexes = async (schema: string) =>
      (await env.pool.query(`SELECT indexname, replace(indexdef, $1 || '.', 'S.') AS def FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`, [schema])).rows;
    expect(await indexes(REBUILD_SCHEMA)).toEqual(await indexes(READ_MODEL_SCHEMA));
  }, 120_000);

  it('stopped and restarted at random points while writers go on, applies every event once', async () => {
    const writers = Promise.all([5, 6].map(async (seed) => {
      for (const events of writerHistory(seed, 80)) await env.record(events);
    }));
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 120));
      ctl.abort();
      await running;
      start();
    }
    await writers;
    await caughtUp(env, () => current);
    await rebuildReadModels({ pool: env.pool, store: env.store, batchSize: 500 });
    const live = await dumpReadModels(env.pool, READ_MODEL_SCHEMA);
    const rebuilt = await dumpReadModels(env.pool, REBUILD_SCHEMA);
    for (const table of Object.keys(live)) expect(rebuilt[table]!.text, table).toBe(live[table]!.text);
  }, 120_000);

  it('replay swaps the rebuilt models in while the projector runs, and the projector carries on', async () => {
    const before = await dumpReadModels(env.pool, READ_MODEL_SCHEMA);
    const phases: string[] = [];
    const writers = (async () => {
      for (const events of writerHistory(7, 40)) await env.record(events);
    })();
    const result = await replayReadModels({ pool: env.pool, store: env.store, checkpoints: env.store.processors, batchSize: 300, onProgress: (p) => phases.push(p.phase) });
    expect(phases).toContain('swap');
    expect(phases.at(-1)).toBe('done');
    expect(Number(result.generation)).toBeGreaterThan(1);
    await writers;
    await caughtUp(env, () => current);
    const after = await dumpReadModels(env.pool, READ_MODEL_SCHEMA);
    expect(after.actions!.rows).toBeGreaterThan(before.actions!.rows);
    await rebuildReadModels({ pool: env.pool, store: env.store });
    const rebuilt = await dumpReadModels(env.pool, REBUILD_SCHEMA);
    for (const table of Object.keys(after)) expect(rebuilt[table]!.text, table).toBe(after[table]!.text);
    expect(await env.store.processors.loadCheckpoint(ProcessorIds.readModels)).toBe(current);
  }, 120_000);
});

describe('an event the projection cannot apply', () => {
  let env: AuditTestEnv;
  beforeAll(async () => {
    env = await createAuditTestEnv('audit_bad_event');
  });
  afterAll(async () => env?.dispose());

  it('stops the projection on it, reports it, and never skips it', async () => {
    const f = createEventFactory({ seed: 3 });
    const good = f.action({ decision: 'allow' });
    await env.record(good);
    // The store validates what it appends, so a bad event can only come from outside it: write the row directly.
    const badId = uuidv7();
    await env.pool.query(
      `INSERT INTO tf_events.events (stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
       VALUES ($1, 0, $2, 'ActionDecided', 1, $3, $4, $5)`,
      [`action-${badId}`, badId, new Date().toISOString(), JSON.stringify({ ...(good[1]!.data as object), actionId: badId, decision: 'maybe' }), JSON.stringify(good[1]!.metadata)],
    );
    const later = f.action({ decision: 'deny' });
    await env.record(later);

    let current: string | null = null;
    const ctl = new AbortController();
    const err = await runReadModelProjection({
      pool: env.pool,
      store: env.store,
      checkpoints: env.store.processors,
      signal: ctl.signal,
      onApplied: (b) => (current = b.checkpoint),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    ctl.abort();
    expect(isTameFlareError(err, 'TF_ERR_AUDIT_PROJECTION')).toBe(true);
    expect((err as Error).message).toContain(badId);
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({ eventId: badId, eventType: 'ActionDecided' });
    const history = await env.store.readAll({ after: null, limit: 100 });
    const badAt = history.findIndex((r) => r.event.id === badId);
    // Everything before the bad event is applied and checkpointed; nothing after it.
    expect(await env.store.processors.loadCheckpoint(ProcessorIds.readModels)).toBe(history[badAt - 1]!.checkpoint);
    expect(current).toBe(history[badAt - 1]!.checkpoint);
    const ids = (await env.db.selectFrom('actions').select('action_id').execute()).map((r) => r.action_id);
    expect(ids).toEqual([(good[0]!.data as { actionId: string }).actionId]);

    // Restarting does not skip it either, and neither does a replay (which leaves the live models as they were).
    const again = await runReadModelProjection({ pool: env.pool, store: env.store, checkpoints: env.store.processors, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect((again as { details: Record<string, unknown> }).details).toMatchObject({ eventId: badId });
    const replayed = await replayReadModels({ pool: env.pool, store: env.store, checkpoints: env.store.processors }).catch((e: unknown) => e);
    expect(isTameFlareError(replayed, 'TF_ERR_AUDIT_PROJECTION')).toBe(true);
    expect((replayed as { details: Record<string, unknown> }).details).toMatchObject({ eventId: badId });
    expect((await env.db.selectFrom('actions').select('action_id').execute()).map((r) => r.action_id)).toEqual(ids);
  }, 60_000);
});
