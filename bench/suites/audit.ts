/**
 * The audit side at scale, on a fresh PostgreSQL database and a private nats-server:
 *
 * 1. record 1,000,000 actions (about 3.6 M events: request, decision, credential release for
 *    allowed ones, completion) through the event store's `appendIdempotent`, as the recorder does;
 * 2. replay: rebuild every read model from the whole event store and swap it in (`tf audit replay`);
 * 3. filtered page queries through the GraphQL API over HTTP (API token checked in NATS KV),
 *    a mix of filters at random depths of the list (keyset cursors), p50/p95;
 * 4. projection lag under load: actions appended at a steady rate while the projector runs,
 *    timed from each event's time (set when it is created, just before the append) to the
 *    commit of the batch that applied it;
 * 5. the audit chain: sealing the whole log and verifying it against the store.
 *
 * `--quick` runs 50,000 actions and shorter phases. Loading is through the event store API (not
 * a bulk COPY) so the history is exactly what the recorder would have written.
 */
import { Kysely, PostgresDialect } from 'kysely';
import { Buckets, sha256Hex, uuidv7, type TameFlareEvent } from '../../libs/contracts/src/index.ts';
import { createPostgresEventStore, type RecordedEvent } from '../../libs/event-store/src/index.ts';
import { connectBus } from '../../libs/messaging/src/index.ts';
import { createTestDatabase, startNatsServer } from '../../libs/testing/src/index.ts';
import {
  createAuditPool,
  encodeCursor,
  loadOrCreateSigningKey,
  loadTrustedKey,
  migrateOps,
  migrateReadModels,
  opsDb,
  replayReadModels,
  runChainSealer,
  runReadModelProjection,
  verifyChain,
} from '../../libs/audit/src/index.ts';
import { createEventFactory } from '../../libs/audit/src/testing/index.ts';
import { createAuthenticator } from '../../services/audit-api/src/auth/authenticate.ts';
import { createAuditApi } from '../../services/audit-api/src/server.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ACTIONS = arg('actions', quick ? 50_000 : 1_000_000);
const QUERY_SAMPLES = quick ? 300 : 2000;
const LAG_RATES = quick ? [500] : [500, 1000, 2000];
const LAG_SECONDS = quick ? 5 : 20;
const log = (m: string) => console.error(`  ${m}`);
// The machine is shared: the 1-minute load average at each phase says how much of it we had.
const loads: Record<string, number> = {};
const phase = (name: string) => (loads[name] = Math.round(loadavg()[0]! * 10) / 10);
const rows: (string | number)[][] = [];
const data: Record<string, unknown> = { actions: ACTIONS };
const started = Date.now();

const nats = await startNatsServer();
const db = await createTestDatabase('bench_audit');
const stateDir = mkdtempSync(join(tmpdir(), 'tf-bench-audit-'));
const store = createPostgresEventStore({ connectionString: db.url, pollIntervalMs: 50, maxConnections: 6 });
await store.migrate();
const pool = createAuditPool({ connectionString: db.url, max: 8, statementTimeoutMs: 600_000 });
const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
await migrateReadModels(k);
await migrateOps(k);
const bus = await connectBus({ servers: nats.url, name: 'bench-audit' });
await bus.ensureBuckets();

try {
  // 1. Record the history: 50 agents, 3 gateways, runs of 5,000 actions, 2 s apart per action on average.
  const agents = Array.from({ length: 50 }, (_, i) => `agent-${i}`);
  const gateways = ['gw-main', 'gw-edge', 'gw-batch'];
  const f = createEventFactory({ seed: 7, start: new Date(Date.now() - ACTIONS * 600) });
  const runs = new Map<string, string>();
  let events = 0;
  phase('record');
  const t0 = performance.now();
  let batch: TameFlareEvent[] = [];
  let pending: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < ACTIONS; i++) {
    const agentId = agents[i % agents.length]!;
    if (i % 5000 < agents.length) {
      const run = f.runStarted({ agentId, gatewayId: gateways[i % 3]! });
      runs.set(agentId, (run.data as { runId: string }).runId);
      batch.push(run);
    }
    f.tick(600);
    batch.push(...f.action({ agentId, runId: runs.get(agentId), gatewayId: gateways[i % 3]! }));
    if (batch.length >= 2000) {
      const b = batch;
      batch = [];
      events += b.length;
      await pending;
      pending = store.appendIdempotent(b);
    }
    if (i % 100_000 === 99_999) log(`recorded ${i + 1} actions (${events} events) in ${fmt((performance.now() - t0) / 1000)} s`);
  }
  events += batch.length;
  await pending;
  if (batch.length) await store.appendIdempotent(batch);
  const loadS = (performance.now() - t0) / 1000;
  rows.push([`record ${ACTIONS.toLocaleString('en-US')} actions through appendIdempotent (batches of ~2,000 events)`, `${fmt(events / loadS)} events/s`, `${fmt(loadS)} s`, '', '', events]);
  data.load = { events, seconds: loadS };
  log(`history: ${events} events in ${fmt(loadS)} s`);

  // 2. Replay: every read model rebuilt from the store, then swapped in.
  phase('replay');
  const r0 = performance.now();
  const replay = await replayReadModels({
    pool,
    store,
    checkpoints: store.processors,
    batchSize: 5000,
    progressEveryMs: 15_000,
    onProgress: (p) => log(`replay ${p.phase}: ${p.events} events, ${p.eventsPerSecond} events/s`),
  });
  const replayS = (performance.now() - r0) / 1000;
  rows.push([`replay: rebuild every read model from ${replay.events.toLocaleString('en-US')} events and swap it in (target ≤ 180 s)`, `${fmt(replay.events / replayS)} events/s`, `${fmt(replayS)} s`, '', '', replay.events]);
  data.replay = { events: replay.events, seconds: replayS };
  const sizes = await pool.query(`SELECT relname, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'audit' AND relkind = 'r' ORDER BY 2 DESC LIMIT 4`);
  data.sizes = Object.fromEntries(sizes.rows.map((r: { relname: string; bytes: string }) => [r.relname, Number(r.bytes)]));
  log(`sizes: ${JSON.stringify(data.sizes)}`);

  // 3. Filtered pages through GraphQL over HTTP.
  const token = `tfa_bench_${uuidv7()}`;
  await (await bus.kv(Buckets.apiTokens)).put(sha256Hex(token), { tokenId: uuidv7(), name: 'bench', role: 'viewer', issuedAt: new Date().toISOString() });
  const api = await createAuditApi({ pool, bus, authenticator: createAuthenticator({ bus }), log: { info() {}, warn() {}, error() {} }, port: 0, dashboardDir: null });
  try {
    const { rows: samples } = await pool.query(`SELECT requested_at, action_id FROM audit.actions TABLESAMPLE SYSTEM (1) WHERE requested_at IS NOT NULL LIMIT 2000`);
    const { rows: span } = await pool.query(`SELECT min(requested_at) AS lo, max(requested_at) AS hi FROM audit.actions`);
    const lo = Date.parse(span[0].lo);
    const hi = Date.parse(span[0].hi);
    const at = (frac: number) => new Date(lo + (hi - lo) * frac).toISOString();
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const shapes: [string, () => Record<string, unknown>][] = [
      ['no filter', () => ({})],
      ['agent', () => ({ agentId: pick(agents) })],
      ['agent + time range (a day)', () => ({ agentId: pick(agents), since: at(0.4), until: at(0.55) })],
      ['decision = deny', () => ({ decision: ['DENY'] })],
      ['gateway + decision', () => ({ gatewayId: pick(gateways), decision: ['REQUIRE_APPROVAL'] })],
      ['action type glob github.repo.*', () => ({ actionType: 'github.repo.*' })],
      ['action type exact + agent', () => ({ actionType: 'stripe.refund.create', agentId: pick(agents) })],
      ['connector + resource glob', () => ({ connector: 'github', resource: 'acme/repo-1*' })],
      ['run', () => ({ runId: pick([...runs.values()]) })],
      ['time range only (an hour)', () => ({ since: at(0.7), until: at(0.7 + 3_600_000 / (hi - lo)) })],
    ];
    const query = `query($filter: ActionFilter, $after: String) { actions(filter: $filter, first: 50, after: $after) {
      edges { cursor node { id type agentId decision requestedAt resource request { method url } completion { status } } } pageInfo { hasNextPage endCursor } } }`;
    const ask = async (filter: Record<string, unknown>, after: string | null) => {
      const t = performance.now();
      const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables: { filter, after } }) });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return performance.now() - t;
    };
    for (let i = 0; i < 50; i++) await ask(shapes[i % shapes.length]![1](), null);
    phase('queries');
    const byShape = new Map<string, number[]>();
    const all: number[] = [];
    for (let i = 0; i < QUERY_SAMPLES; i++) {
      const [name, filter] = shapes[i % shapes.length]!;
      // Half the pages start deep in the list, at the cursor of a random recorded action.
      const s = Math.random() < 0.5 ? pick(samples) : null;
      const ms = await ask(filter(), s ? encodeCursor('actions', { time: s.requested_at, id: s.action_id }) : null);
      all.push(ms);
      byShape.set(name, [...(byShape.get(name) ?? []), ms]);
    }
    const p = percentiles(all, [50, 95, 99]);
    rows.push(['filtered page of 50 actions via GraphQL over HTTP, all shapes (target p95 ≤ 50 ms)', `p50 ${fmt(p.p50!)} ms`, `p95 ${fmt(p.p95!)} ms`, `p99 ${fmt(p.p99!)} ms`, '', all.length]);
    for (const [name, ms] of byShape) {
      const q = percentiles(ms, [50, 95]);
      rows.push([`  filter: ${name}`, `p50 ${fmt(q.p50!)} ms`, `p95 ${fmt(q.p95!)} ms`, '', '', ms.length]);
    }
    data.query = { p50: p.p50, p95: p.p95, p99: p.p99, byShape: Object.fromEntries([...byShape].map(([n, ms]) => [n, percentiles(ms, [50, 95])])) };
    log(`queries: p50 ${fmt(p.p50!)} ms, p95 ${fmt(p.p95!)} ms`);
  } finally {
    await api.close();
  }

  // 4. Projection lag under a steady append rate.
  const times = new Map<string, number[]>();
  const lags: number[] = [];
  const watched = {
    subscribeToAll: (o: Parameters<typeof store.subscribeToAll>[0]) =>
      (async function* () {
        for await (const b of store.subscribeToAll(o)) {
          times.set(b[b.length - 1]!.checkpoint, b.map((e: RecordedEvent) => Date.parse(e.event.time)));
          yield b;
        }
      })(),
  };
  const ctl = new AbortController();
  const projecting = runReadModelProjection({
    pool,
    store: watched,
    checkpoints: store.processors,
    signal: ctl.signal,
    batchSize: 1000,
    onApplied: (b) => {
      const now = Date.now();
      for (const t of times.get(b.checkpoint) ?? []) lags.push(now - t);
      times.delete(b.checkpoint);
    },
  });
  const lagData: Record<number, unknown> = {};
  data.lag = lagData;
  const live = createEventFactory({ seed: 99, realTime: true });
  phase('lag');
  for (const rate of LAG_RATES) {
    lags.length = 0;
    const tickMs = 10;
    const perTick = rate / (1000 / tickMs);
    const end = Date.now() + LAG_SECONDS * 1000;
    let owed = 0;
    let sent = 0;
    const inflight: Promise<unknown>[] = [];
    while (Date.now() < end) {
      const tickStart = Date.now();
      owed += perTick;
      const n = Math.floor(owed);
      owed -= n;
      const evs: TameFlareEvent[] = [];
      for (let i = 0; i < n; i++) evs.push(...live.action({ agentId: `agent-${i % 50}`, gatewayId: 'gw-main' }));
      if (evs.length) {
        sent += n;
        inflight.push(store.appendIdempotent(evs));
        if (inflight.length > 8) await inflight.shift();
      }
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - tickStart))));
    }
    await Promise.all(inflight);
    const drainEnd = Date.now() + 30_000;
    const expected = lags.length;
    await new Promise((r) => setTimeout(r, 2000));
    while (times.size > 0 && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));
    const q = percentiles(lags, [50, 99]);
    rows.push([`projection lag, ${rate.toLocaleString('en-US')} actions/s offered (≈${fmt(rate * 3.6)} events/s), event time → committed (target p99 ≤ 1 s)`, `p50 ${fmt(q.p50!)} ms`, `p99 ${fmt(q.p99!)} ms`, '', `${fmt(sent / LAG_SECONDS)} actions/s sent`, lags.length]);
    lagData[rate] = { p50: q.p50, p99: q.p99, events: lags.length, sentActionsPerSecond: sent / LAG_SECONDS };
    log(`lag at ${rate} actions/s: p50 ${fmt(q.p50!)} ms, p99 ${fmt(q.p99!)} ms (${lags.length} events; ${expected} at end of offer)`);
  }
  ctl.abort();
  await projecting;

  // 5. The audit chain over the whole log.
  const key = loadOrCreateSigningKey(stateDir);
  let sealed = 0;
  const total = (await pool.query(`SELECT count(*)::int AS n FROM tf_events.events`)).rows[0].n as number;
  phase('chain');
  const s0 = performance.now();
  const sealCtl = new AbortController();
  const sealing = runChainSealer({
    pool,
    store,
    checkpoints: store.processors,
    signal: sealCtl.signal,
    batchSize: 5000,
    signing: { key, everyEvents: 10_000 },
    onApplied: (b) => {
      sealed += b.events;
      if (sealed >= total) sealCtl.abort();
    },
  });
  await sealing;
  const sealS = (performance.now() - s0) / 1000;
  rows.push([`seal the audit chain over ${total.toLocaleString('en-US')} events (SHA-256 chain, Ed25519 checkpoint every 10,000)`, `${fmt(sealed / sealS)} events/s`, `${fmt(sealS)} s`, '', '', sealed]);
  const v0 = performance.now();
  const report = await verifyChain({ store, db: opsDb(pool), trustedKeys: [loadTrustedKey(stateDir)], pageSize: 10_000 });
  const verifyS = (performance.now() - v0) / 1000;
  if (!report.ok) throw new Error(`verify failed: ${report.problem?.message}`);
  rows.push([`verify the chain against the event store (${report.signatures.verified} signatures)`, `${fmt(report.checked / verifyS)} events/s`, `${fmt(verifyS)} s`, '', '', report.checked]);
  data.chain = { sealed, sealSeconds: sealS, verified: report.checked, verifySeconds: verifyS };
} finally {
  await bus.close();
  await store.close();
  await pool.end();
  await db.drop();
  await nats.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}

emit({
  suite: 'audit',
  title: 'Audit: recording, replay, filtered queries, projection lag, chain',
  description: `${ACTIONS.toLocaleString('en-US')} actions recorded through the event store (appendIdempotent, as the recorder writes them) into a fresh PostgreSQL database; replay rebuilds every read model from the log and swaps it in; page queries go through the GraphQL API over HTTP with an API token checked in NATS KV (private nats-server), half of them starting at a random depth; lag is from each event's creation time to the commit of the projection batch that applied it, with actions appended at a steady rate while the projector runs; the chain is sealed and verified over the whole log. Everything shares one 2-core machine.`,
  columns: ['what', 'p50 / rate', 'p95 / time', 'p99', 'note', 'samples'],
  rows,
  notes: [
    `Total run ${Math.round((Date.now() - started) / 1000)} s. One-minute load average on the 2 cores when each phase began (other work shares the machine): ${Object.entries(loads).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  ],
  data: { ...data, loadAverage: loads },
});
