/**
 * The recorder as a process (services/recorder/src/main.ts) between a private nats-server and a
 * fresh PostgreSQL database: how fast it drains a JetStream backlog into the event store (one and
 * two replicas), and the lag from JetStream publish to the event being readable by an event
 * store subscriber, at a steady publish rate.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumers, uuidv7, type TameFlareEvent } from '../../libs/contracts/src/index.ts';
import { createPostgresEventStore } from '../../libs/event-store/src/index.ts';
import { fixtures } from '../../libs/event-store/src/test/index.ts';
import { connectBus } from '../../libs/messaging/src/index.ts';
import { createTestDatabase, startNatsServer, waitFor } from '../../libs/testing/src/index.ts';
import { killAllRecorders, startRecorderProcess } from '../../services/recorder/src/test/recorder-process.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const rows: (string | number)[][] = [];
const data: Record<string, unknown> = {};

function actions(count: number): TameFlareEvent[] {
  const out: TameFlareEvent[] = [];
  for (let i = 0; i < count; i++) {
    const actionId = uuidv7();
    out.push(fixtures.actionRequested({ actionId }), fixtures.actionRequested({ actionId, path: '/decided' }), fixtures.actionRequested({ actionId, path: '/released' }), fixtures.actionCompleted(actionId));
  }
  return out;
}

async function scenario<T>(name: string, fn: (ctx: { natsUrl: string; dbUrl: string; schema: string }) => Promise<T>): Promise<T> {
  const nats = await startNatsServer();
  const db = await createTestDatabase(`bench_recorder_${name}`);
  try {
    return await fn({ natsUrl: nats.url, dbUrl: db.url, schema: 'bench' });
  } finally {
    await killAllRecorders();
    await nats.dispose();
    await db.drop();
  }
}

const envOf = (c: { natsUrl: string; dbUrl: string; schema: string }, extra: Record<string, string> = {}) => ({
  TF_NATS_URL: c.natsUrl,
  TF_DATABASE_URL: c.dbUrl,
  TF_EVENT_STORE_SCHEMA: c.schema,
  TF_LOG_LEVEL: 'warn',
  ...extra,
});

// 1. Backlog drain: events already in JetStream, then the recorder(s) start.
for (const replicas of [1, 2]) {
  const total = quick ? 10_000 : 60_000;
  await scenario(`drain${replicas}`, async (c) => {
    const bus = await connectBus({ servers: c.natsUrl, name: 'bench-ingress' });
    try {
      await bus.ensureStreams();
      const events = actions(total / 4);
      for (let i = 0; i < events.length; i += 500) await bus.publishEvents(events.slice(i, i + 500));
      const jsm = await jetstreamManager(bus.nc);
      // Migrate and create the consumer first, so the timed part is recording only.
      const store = createPostgresEventStore({ connectionString: c.dbUrl, schema: c.schema });
      await store.migrate();
      const count = async () => Number((await store.pool.query(`SELECT count(*) AS n FROM ${c.schema}.events`)).rows[0].n);
      const starting = Promise.all(Array.from({ length: replicas }, () => startRecorderProcess(envOf(c), { waitReady: false })));
      // Timed from the first recorded event, so process start-up is not counted.
      await waitFor(async () => (await count()) > 0, { timeoutMs: 120_000, intervalMs: 5, what: 'the first event recorded' });
      const started = performance.now();
      await starting;
      await waitFor(
        async () => {
          const info = await jsm.consumers.info(Consumers.recorder.stream, Consumers.recorder.durable).catch(() => null);
          return info !== null && info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { timeoutMs: 600_000, intervalMs: 20, what: 'the backlog to drain' },
      );
      const seconds = (performance.now() - started) / 1000;
      const stored = Number((await store.pool.query(`SELECT count(*) AS n FROM ${c.schema}.events`)).rows[0].n);
      await store.close();
      if (stored !== total) throw new Error(`stored ${stored} of ${total}`);
      const name = `drain a JetStream backlog, ${replicas} replica${replicas > 1 ? 's' : ''}`;
      rows.push([name, `${fmt(total / seconds)} events/s`, '', '', total]);
      data[name] = { eventsPerSecond: total / seconds, seconds, events: total };
    } finally {
      await bus.close();
    }
  });
}

// 2. Lag at a steady rate: publish → readable through an event store subscription.
for (const rate of quick ? [2000] : [2000, 8000]) {
  await scenario(`lag${rate}`, async (c) => {
    const bus = await connectBus({ servers: c.natsUrl, name: 'bench-ingress' });
    const store = createPostgresEventStore({ connectionString: c.dbUrl, schema: c.schema, pollIntervalMs: 50 });
    const ctl = new AbortController();
    try {
      await bus.ensureStreams();
      await store.migrate();
      await startRecorderProcess(envOf(c));
      const seconds = quick ? 5 : 15;
      const events = actions((rate * seconds) / 4);
      const sentAt = new Map<string, number>();
      const lags: number[] = [];
      const seen = (async () => {
        for await (const batch of store.subscribeToAll({ after: null, batchSize: 1000, signal: ctl.signal })) {
          const now = performance.now();
          for (const r of batch) {
            const t = sentAt.get(r.event.id);
            if (t !== undefined) lags.push(now - t);
          }
          if (lags.length >= events.length) return;
        }
      })();
      const tickMs = 10;
      const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
      const start = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0, tick = 0; i < events.length; tick++) {
        const chunk = events.slice(i, i + perTick);
        i += perTick;
        const t = performance.now();
        for (const e of chunk) sentAt.set(e.id, t);
        pending.push(bus.publishEvents(chunk));
        const wait = start + (tick + 1) * tickMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await Promise.all(pending);
      const achieved = events.length / ((performance.now() - start) / 1000);
      await Promise.race([seen, new Promise((r) => setTimeout(r, 60_000))]);
      ctl.abort();
      await seen;
      if (lags.length !== events.length) throw new Error(`saw ${lags.length} of ${events.length} events`);
      const p = percentiles(lags, [50, 90, 99]);
      const name = `lag publish → readable, ${rate} events/s offered`;
      rows.push([name, `${fmt(achieved)} events/s`, `${fmt(p.p50!)} ms`, `${fmt(p.p99!)} ms`, lags.length]);
      data[name] = { offered: rate, achieved, p50ms: p.p50, p90ms: p.p90, p99ms: p.p99, events: lags.length };
    } finally {
      ctl.abort();
      await store.close();
      await bus.close();
    }
  });
}

emit({
  suite: 'recorder',
  title: 'Recorder: JetStream → event store',
  description:
    'The recorder process between a private nats-server (JetStream file storage) and a fresh PostgreSQL database. Drain: a backlog of action events (four per action, about 1 KB each) already in TF_EVENTS, timed from the first event in the store until the durable consumer has nothing pending or unacked. Lag: events published at a steady rate in 10 ms ticks, timed from the publish call to the moment an event store subscription (LISTEN/NOTIFY, poll fallback 50 ms) in the publishing process reads it.',
  columns: ['scenario', 'throughput', 'lag p50', 'lag p99', 'events'],
  rows,
  notes: [
    'The publisher, the recorder, nats-server and PostgreSQL share the machine’s cores.',
    'Batches of up to 500 messages per fetch and per append transaction (TF_RECORDER_BATCH_SIZE).',
  ],
  data,
});
