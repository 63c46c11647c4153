import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import pg from 'pg';
import { Consumers, Streams, subjectOf, uuidv7, type TameFlareEvent } from '@tameflare/contracts';
import { createPostgresEventStore } from '@tameflare/event-store';
import { fixtures, startPrivatePostgres } from '@tameflare/event-store/testing';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { killAllRecorders, startRecorderProcess } from './test/recorder-process.ts';

let db: TestDatabase;
let sql: pg.Client;
let nats: TestNatsServer;
let client: Bus;
let schema: string;

beforeAll(async () => {
  db = await createTestDatabase('recorder');
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});
// A private nats-server and event store schema per test: the durable consumer is shared by design.
beforeEach(async () => {
  nats = await startNatsServer();
  client = await connectBus({ servers: nats.url, name: 'test-ingress' });
  await client.ensureStreams();
  schema = `rec_${uuidv7().replace(/-/g, '').slice(-12)}`;
});
afterEach(async () => {
  await killAllRecorders();
  await client?.close();
  await nats?.dispose();
});

const recorderEnv = (extra: Record<string, string> = {}) => ({
  TF_NATS_URL: nats.url,
  TF_DATABASE_URL: db.url,
  TF_EVENT_STORE_SCHEMA: schema,
  TF_RECORDER_SCHEMA: `${schema}_r`,
  ...extra,
});

/** `actions` request paths of four events each, as the ingress and policy publish them. */
function actionEvents(actions: number): TameFlareEvent[] {
  const out: TameFlareEvent[] = [];
  for (let i = 0; i < actions; i++) {
    const actionId = uuidv7();
    out.push(fixtures.actionRequested({ actionId }), fixtures.actionRequested({ actionId, path: '/b' }), fixtures.actionRequested({ actionId, path: '/c' }), fixtures.actionCompleted(actionId));
  }
  return out;
}

async function publishAll(events: TameFlareEvent[], chunk = 200, pauseMs = 0): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    await client.publishEvents(events.slice(i, i + chunk));
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

async function storedCount(ids: string[], url = db.url): Promise<{ rows: number; distinct: number }> {
  const c = url === db.url ? sql : new pg.Client({ connectionString: url });
  if (c !== sql) await c.connect();
  try {
    const r = await c.query(`SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM "${schema}".events WHERE event_id = ANY($1::uuid[])`, [ids]);
    return r.rows[0];
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return { rows: 0, distinct: 0 };
    throw err;
  } finally {
    if (c !== sql) await c.end();
  }
}

/** Every action stream holds its four events once, at versions 0..3, in publish order. */
async function expectEachRecordedOnce(events: TameFlareEvent[]): Promise<void> {
  const ids = events.map((e) => e.id);
  expect(await storedCount(ids)).toEqual({ rows: ids.length, distinct: ids.length });
  const r = await sql.query(
    `SELECT stream_id, array_agg(stream_version ORDER BY stream_version)::text AS versions, count(*)::int AS n FROM "${schema}".events WHERE event_id = ANY($1::uuid[]) GROUP BY stream_id`,
    [ids],
  );
  expect(r.rows).toHaveLength(events.length / 4);
  for (const row of r.rows) expect(row.versions).toBe('{0,1,2,3}');
}

async function consumerState() {
  const jsm = await jetstreamManager(client.nc);
  const info = await jsm.consumers.info(Consumers.recorder.stream, Consumers.recorder.durable);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

describe('recorder', () => {
  it('records every published action event exactly once and acks it', async () => {
    await startRecorderProcess(recorderEnv());
    const events = actionEvents(250);
    await publishAll(events);
    await waitFor(async () => (await storedCount(events.map((e) => e.id))).distinct === events.length, { timeoutMs: 30_000, what: 'all events recorded' });
    await expectEachRecordedOnce(events);
    await waitFor(async () => {
      const s = await consumerState();
      return s.pending === 0 && s.ackPending === 0;
    }, { what: 'every message acked' });
  });

  it('loses nothing and duplicates nothing when the recorder is SIGKILLed mid-stream and restarted', async () => {
    // What the killed process had pulled but not acked comes back after the ack wait.
    const env = recorderEnv({ TF_RECORDER_BATCH_SIZE: '100', TF_RECORDER_ACK_WAIT: '2s' });
    const first = await startRecorderProcess(env);
    const events = actionEvents(750);
    const ids = events.map((e) => e.id);
    const publishing = publishAll(events, 100, 5);
    await waitFor(async () => (await storedCount(ids)).distinct >= 600, { timeoutMs: 30_000, what: 'part of the stream recorded' });
    first.kill('SIGKILL');
    await first.exited;
    const atKill = (await storedCount(ids)).distinct;
    expect(atKill).toBeLessThan(events.length);
    await publishing;
    await startRecorderProcess(env);
    await waitFor(async () => (await storedCount(ids)).distinct === events.length, { timeoutMs: 60_000, what: 'all events recorded after the restart' });
    await expectEachRecordedOnce(events);
  }, 120_000);

  it('shares the work between two replicas without recording anything twice', async () => {
    await Promise.all([startRecorderProcess(recorderEnv({ TF_RECORDER_BATCH_SIZE: '50' })), startRecorderProcess(recorderEnv({ TF_RECORDER_BATCH_SIZE: '50' }))]);
    const events = actionEvents(750);
    // Redeliver a slice too, as a producer retry after a lost ack would.
    await Promise.all([publishAll(events, 100), publishAll(events.slice(0, 400), 50)]);
    await waitFor(async () => (await storedCount(events.map((e) => e.id))).distinct === events.length, { timeoutMs: 60_000, what: 'all events recorded' });
    await expectEachRecordedOnce(events);
  }, 120_000);

  it('relays control events from the store to JetStream, for a consumer created only afterwards, with one active relay', async () => {
    const replicas = await Promise.all([startRecorderProcess(recorderEnv()), startRecorderProcess(recorderEnv())]);
    const store = createPostgresEventStore({ connectionString: db.url, schema });
    const jsm = await jetstreamManager(client.nc);
    const gatewayId = `gw-${uuidv7().slice(-8)}`;
    const control = fixtures.gatewayCreated(gatewayId);
    const hotPath = fixtures.actionRequested({ gatewayId });
    const later = fixtures.gatewayCreated(`${gatewayId}-2`);
    try {
      await store.append(`gateway-${gatewayId}`, [control], { expectedVersion: 'no_stream' });
      await store.appendIdempotent([hotPath]);
      await waitFor(async () => (await jsm.streams.info(Streams.events.name)).state.messages >= 1, { timeoutMs: 15_000, what: 'the relay to publish' });
      const active = replicas.filter((r) => r.output().includes('relay: active'));
      expect(active).toHaveLength(1);

      // The standby takes over when the active relay dies, from the saved checkpoint.
      active[0]!.kill('SIGKILL');
      await active[0]!.exited;
      const standby = replicas.find((r) => r !== active[0])!;
      await waitFor(() => standby.output().includes('relay: active'), { timeoutMs: 15_000, what: 'the standby to take over the relay' });
      await store.append(`gateway-${gatewayId}-2`, [later], { expectedVersion: 'no_stream' });
      await waitFor(async () => (await jsm.streams.info(Streams.events.name)).state.messages >= 2, { timeoutMs: 15_000, what: 'the new relay to publish' });
    } finally {
      await store.close();
    }

    await jsm.consumers.add(Streams.events.name, { durable_name: 'late-siem', filter_subject: 'tf.evt.>', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await jetstream(client.nc).consumers.get(Streams.events.name, 'late-siem');
    const got: { subject: string; id: string; msgId: string | undefined }[] = [];
    const batch = await consumer.fetch({ max_messages: 10, expires: 2000 });
    for await (const m of batch) {
      got.push({ subject: m.subject, id: m.json<TameFlareEvent>().id, msgId: m.headers?.get('Nats-Msg-Id') });
      m.ack();
    }
    // Each once, in log order; the hot-path event is not relayed (the ingress publishes those).
    expect(got).toEqual([
      { subject: subjectOf(control), id: control.id, msgId: control.id },
      { subject: subjectOf(later), id: later.id, msgId: later.id },
    ]);
  }, 60_000);

  it('stores a malformed message in rejected_messages, terminates it, and records the rest', async () => {
    const rec = await startRecorderProcess(recorderEnv());
    const js = jetstream(client.nc);
    const good = actionEvents(5);
    const misplaced = fixtures.actionRequested({ gatewayId: 'gw-a' });
    await client.publishEvents(good.slice(0, 10));
    await js.publish('tf.evt.action.requested.gw-a', new TextEncoder().encode('{"id": "not even close"'));
    await js.publish('tf.evt.action.requested.gw-b', new TextEncoder().encode(JSON.stringify(misplaced)));
    await js.publish('tf.evt.action.completed.gw-a', new TextEncoder().encode(JSON.stringify({ ...good[3]!, id: uuidv7(), version: 7 })));
    await client.publishEvents(good.slice(10));

    await waitFor(async () => (await storedCount(good.map((e) => e.id))).distinct === good.length, { timeoutMs: 30_000, what: 'the valid events' });
    await expectEachRecordedOnce(good);
    const rejected = await waitFor(async () => {
      const r = await sql.query(`SELECT subject, error_code, error_message, convert_from(payload, 'UTF8') AS payload FROM "${schema}_r".rejected_messages ORDER BY stream_seq`);
      return r.rows.length === 3 ? r.rows : null;
    }, { what: 'three rejected messages' });
    expect(rejected.map((r) => [r.subject, r.error_code])).toEqual([
      ['tf.evt.action.requested.gw-a', 'TF_ERR_CONTRACT_MALFORMED'],
      ['tf.evt.action.requested.gw-b', 'TF_ERR_RECORDER_SUBJECT_MISMATCH'],
      ['tf.evt.action.completed.gw-a', 'TF_ERR_CONTRACT_UNKNOWN_VERSION'],
    ]);
    expect(rejected[0].payload).toBe('{"id": "not even close"');
    expect(await storedCount([misplaced.id])).toEqual({ rows: 0, distinct: 0 });
    await waitFor(async () => {
      const s = await consumerState();
      return s.pending === 0 && s.ackPending === 0;
    }, { what: 'nothing left pending: rejected messages are terminated, not redelivered' });
    expect(rec.output()).toContain('rejected a message that is not a valid event');
  });
});

describe('recorder with the event store down', () => {
  it('stops acking and reports not ready while PostgreSQL is down, then records everything once', async () => {
    const server = await startPrivatePostgres();
    try {
      const env = recorderEnv({ TF_DATABASE_URL: server.url, TF_RECORDER_BATCH_SIZE: '50' });
      const rec = await startRecorderProcess(env);
      const before = actionEvents(25);
      await publishAll(before);
      await waitFor(async () => (await storedCount(before.map((e) => e.id), server.url)).distinct === before.length, { timeoutMs: 30_000, what: 'events before the outage' });

      await server.stop();
      const during = actionEvents(50);
      await publishAll(during);
      const notReady = await waitFor(async () => {
        const r = await rec.readyz();
        return r.status === 503 ? r.body : null;
      }, { timeoutMs: 15_000, what: 'the recorder to report not ready' });
      expect(notReady.checks.service.ok).toBe(false);
      expect(notReady.checks.service.detail).toMatch(/event store unavailable/);
      const waiting = await consumerState();
      expect(waiting.pending + waiting.ackPending).toBeGreaterThan(0);

      await server.start();
      await waitFor(async () => (await storedCount(during.map((e) => e.id), server.url)).distinct === during.length, { timeoutMs: 60_000, what: 'events published during the outage' });
      await waitFor(async () => (await rec.readyz()).status === 200, { timeoutMs: 15_000, what: 'ready again' });
      const all = [...before, ...during];
      expect(await storedCount(all.map((e) => e.id), server.url)).toEqual({ rows: all.length, distinct: all.length });
    } finally {
      await killAllRecorders();
      await server.dispose();
    }
  }, 120_000);
});
