/**
 * Scale beyond one NATS server: a three-node JetStream cluster on loopback, TF_EVENTS replicated
 * three times, request-path events published by the ingress user and consumed by the recorder's
 * durable consumer as the recorder user (the permission matrix of libs/contracts), while the
 * node leading the stream is killed with SIGKILL. The books are checked id by id: every acked
 * event is in the stream once and applied once; nothing was lost, nothing duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Consumers, Streams, createEvent, inboxPrefixFor, sha256Hex, uuidv7, type NatsUser, type TameFlareEvent } from '@tameflare/contracts';
import { connectBus, type Bus, type ConsumerHandle } from '@tameflare/messaging';
import { waitFor } from '@tameflare/testing';
import { startNatsCluster, type TestNatsCluster } from './nats-cluster.ts';

const TOTAL = 3000;
const KILL_AT = 1000;
const PUBLISHERS = 8;

let cluster: TestNatsCluster;
const buses: Bus[] = [];

async function connectAs(user: NatsUser): Promise<Bus> {
  const bus = await connectBus({
    servers: cluster.urls,
    name: `${user}@cluster-test`,
    user,
    pass: cluster.passwords[user],
    inboxPrefix: inboxPrefixFor(user),
    ackTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    pingIntervalMs: 1000,
  });
  buses.push(bus);
  return bus;
}

function actionRequested(n: number): TameFlareEvent {
  const actionId = uuidv7();
  return createEvent(
    'ActionRequested',
    {
      actionId,
      gatewayId: 'default',
      agentId: 'cluster-bot',
      runId: '0190b6f0-0000-7000-8000-000000000001',
      agentName: 'Cluster bot',
      ingressId: 'ingress-cluster-test',
      connectionId: `c${n}`,
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'api.stripe.com',
        port: 443,
        path: '/v1/refunds',
        query: '',
        contentType: 'application/x-www-form-urlencoded',
        contentLength: 12,
        bodyDigest: sha256Hex(`charge=${n}`),
        bodyTruncated: false,
        userAgent: 'cluster-test',
      },
      action: { type: 'stripe.refund.create', connector: 'stripe', resource: null, params: { n }, risk: 'write', notes: [] },
      classifierVersion: 'test',
      requestDigest: sha256Hex(`digest-${n}`),
    },
    { correlationId: actionId, source: 'cluster-test@local', id: actionId },
  );
}

/** Publishes until acked, re-sending the same event (same id, so JetStream dedupes a stored one). */
async function publishUntilAcked(bus: Bus, event: TameFlareEvent, stats: { retries: number; duplicates: number }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const ack = await bus.publishEvent(event);
      if (ack.duplicate) stats.duplicates++;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      stats.retries++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

beforeAll(async () => {
  cluster = await startNatsCluster({ size: 3 });
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
  await cluster?.dispose();
});

describe('three-node JetStream cluster', () => {
  it('loses and duplicates no event when the node leading TF_EVENTS is killed mid-traffic', async () => {
    const t0 = performance.now();
    const phase: Record<string, number> = {};
    const mark = (name: string) => (phase[name] = Math.round(performance.now() - t0));
    const admin = await connectAs('admin');
    // The cluster elects its meta leader a moment after the nodes are up.
    await waitFor(() => admin.ensureStreams({ replicas: 3 }).then(() => true), { timeoutMs: 30_000, intervalMs: 250, what: 'TF_EVENTS with 3 replicas' });
    const jsm: JetStreamManager = await jetstreamManager(admin.nc);
    const info = await jsm.streams.info(Streams.events.name);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
    mark('stream');
    // Every service calls ensureStreams() at start without knowing the cluster size, under a user
    // that may not update streams: it must accept the replicated stream as it is.
    const policy = await connectAs('policy');
    await policy.ensureStreams();
    expect((await jsm.streams.info(Streams.events.name)).config.num_replicas).toBe(3);

    const ingress = await connectAs('ingress');
    const recorder = await connectAs('recorder');
    const deliveries: { id: string; count: number }[] = [];
    const applied = new Map<string, number>();
    const consumer: ConsumerHandle = await recorder.consume(
      Consumers.recorder,
      (batch) => {
        for (const m of batch) {
          const id = m.event().id;
          deliveries.push({ id, count: m.deliveryCount });
          // Applying is idempotent by event id, as the recorder's append is.
          if (!applied.has(id)) applied.set(id, 1);
          else if (m.deliveryCount === 1) applied.set(id, applied.get(id)! + 1);
          m.ack();
        }
      },
      { ackWaitMs: 3000, batchSize: 200 },
    );

    const events = Array.from({ length: TOTAL }, (_, n) => actionRequested(n));
    const stats = { retries: 0, duplicates: 0 };
    let next = 0;
    let published = 0;
    let killed: string | undefined;
    const killLeader = async () => {
      const leader = await waitFor(async () => (await jsm.streams.info(Streams.events.name)).cluster?.leader, { timeoutMs: 20_000, what: 'the stream leader' });
      killed = leader;
      cluster.node(leader).signal('SIGKILL');
    };
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: PUBLISHERS }, async () => {
        while (next < TOTAL) {
          const e = events[next++]!;
          await publishUntilAcked(ingress, e, stats);
          published++;
          if (published === KILL_AT) killing = killLeader();
        }
      }),
    );
    await killing;
    expect(killed).toBeDefined();
    mark('published');

    await waitFor(() => applied.size === TOTAL, { timeoutMs: 60_000, intervalMs: 100, what: `all ${TOTAL} events consumed (have ${applied.size})` });
    await consumer.stop();
    mark('consumed');

    // The stream holds each event exactly once.
    const after = await waitFor(() => jsm.streams.info(Streams.events.name), { timeoutMs: 20_000, what: 'stream info after failover' });
    expect(after.cluster?.leader).not.toBe(killed);
    expect(after.state.messages).toBe(TOTAL);
    const stored = await waitFor(() => readStreamIds(admin, TOTAL).catch((err) => {
      process.stdout.write(`reading the stream failed, retrying: ${(err as Error).message}\n`);
      return undefined;
    }), { timeoutMs: 30_000, what: 'the stream read back' });
    expect(stored.length).toBe(TOTAL);
    expect(new Set(stored).size).toBe(TOTAL);

    const sent = events.map((e) => e.id).sort();
    expect([...stored].sort()).toEqual(sent);
    expect([...applied.keys()].sort()).toEqual(sent);
    const appliedTwice = [...applied].filter(([, n]) => n !== 1).map(([id]) => id);
    expect(appliedTwice).toEqual([]);
    const redelivered = deliveries.filter((d) => d.count > 1).length;
    process.stdout.write(
      `cluster: killed ${killed} after ${KILL_AT} acks; ${TOTAL} sent, ${stored.length} stored, ${applied.size} applied; ` +
        `${stats.retries} publish retries, ${stats.duplicates} deduped re-sends, ${redelivered} redeliveries (flagged); ms since start: ${JSON.stringify(phase)}\n`,
    );

    // The killed node comes back and catches up: three current replicas again.
    await cluster.node(killed!).start();
    await waitFor(
      async () => {
        const i = await jsm.streams.info(Streams.events.name);
        return i.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current && !r.offline);
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the restarted node to catch up' },
    );
  }, 150_000);
});

/** Every event id in TF_EVENTS, in stream order, through an ordered consumer. */
async function readStreamIds(bus: Bus, expected: number): Promise<string[]> {
  const js = jetstream(bus.nc);
  const c = await js.consumers.get(Streams.events.name);
  const ids: string[] = [];
  const it = await c.consume();
  for await (const m of it) {
    ids.push((m.json() as { id: string }).id);
    if (m.info.pending === 0 || ids.length >= expected) break;
  }
  await it.close();
  return ids;
}
