import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, waitFor, type TestNatsServer } from '@tameflare/testing';
import { Buckets, Commands, Streams, TameFlareError, inboxPrefixFor, isTameFlareError, natsAuthorizationConfig, uuidv7, type NatsUser } from '@tameflare/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectBus, isRemoteError, MessagingErrorCode, type Bus, type BusLogger } from './index.ts';
import { gatewayCreated } from './test-fixtures/events.ts';

/** The error a promise rejects with; fails the test if it resolves. */
function failure(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

let server: TestNatsServer;
const buses: Bus[] = [];
async function bus(name: string, logger?: BusLogger): Promise<Bus> {
  const b = await connectBus({ servers: server.url, name, requestTimeoutMs: 1000, ackTimeoutMs: 1000, ...(logger ? { logger } : {}) });
  buses.push(b);
  return b;
}

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
  await server?.dispose();
});

describe('request/reply', () => {
  it('answers each request exactly once through a queue group with two responders', async () => {
    const [a, b, client] = [await bus('responder-a'), await bus('responder-b'), await bus('client')];
    const seen = { a: [] as number[], b: [] as number[] };
    const cmd = { subject: 'tf.cmd.test.echo', queue: 'echo' };
    await a.serve(cmd, (p: { n: number }) => (seen.a.push(p.n), { n: p.n, by: 'a' }));
    await b.serve(cmd, (p: { n: number }) => (seen.b.push(p.n), { n: p.n, by: 'b' }));
    const replies = await Promise.all(Array.from({ length: 60 }, (_, n) => client.request<{ n: number; by: string }>(cmd, { n })));
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    expect([...seen.a, ...seen.b].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    expect(seen.a.length).toBeGreaterThan(0);
    expect(seen.b.length).toBeGreaterThan(0);
  });

  it('re-throws a responder TameFlareError as a RemoteError with the same code, message and details', async () => {
    const [srv, client] = [await bus('srv'), await bus('cli')];
    await srv.serve({ subject: 'tf.cmd.test.refuse', queue: 'q' }, () => {
      throw new TameFlareError('TF_ERR_VAULT_SECRET_NOT_FOUND', 'secret "github" does not exist\r\non gateway default', { details: { name: 'github' } });
    });
    const err = await failure(client.request('tf.cmd.test.refuse', {}));
    expect(isRemoteError(err)).toBe(true);
    expect(isTameFlareError(err, 'TF_ERR_VAULT_SECRET_NOT_FOUND')).toBe(true);
    expect(err.message).toBe('secret "github" does not exist\r\non gateway default');
    expect(err.details).toEqual({ name: 'github' });
    expect(err.subject).toBe('tf.cmd.test.refuse');
  });

  it('answers TF_ERR_INTERNAL without leaking anything when a handler throws a plain error', async () => {
    const logged: { err?: Error }[] = [];
    const logger = { warn: () => undefined, error: (o: object) => void logged.push(o) };
    const [srv, client] = [await bus('srv2', logger), await bus('cli2')];
    await srv.serve({ subject: 'tf.cmd.test.crash', queue: 'q' }, async () => {
      throw new Error('connection to postgres://admin:hunter2@db failed');
    });
    const err = await failure(client.request('tf.cmd.test.crash', {}));
    expect(isRemoteError(err, MessagingErrorCode.Internal)).toBe(true);
    expect(err.message).toBe('internal error');
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain('hunter2');
    expect(logged.map((l) => l.err?.message)).toEqual(['connection to postgres://admin:hunter2@db failed']);
  });

  it('refuses a payload that is not JSON with TF_ERR_CONTRACT_MALFORMED', async () => {
    const [srv, client] = [await bus('srv3'), await bus('cli3')];
    await srv.serve({ subject: 'tf.cmd.test.json', queue: 'q' }, (p) => p);
    const reply = await client.nc.request('tf.cmd.test.json', '{nope', { timeout: 1000 });
    expect(reply.headers?.get('Nats-Service-Error-Code')).toBe('TF_ERR_CONTRACT_MALFORMED');
  });

  it('times out with TF_ERR_NATS_TIMEOUT when the responder never answers', async () => {
    const [srv, client] = [await bus('srv4'), await bus('cli4')];
    await srv.serve({ subject: 'tf.cmd.test.slow', queue: 'q' }, () => new Promise(() => undefined));
    const err = await failure(client.request('tf.cmd.test.slow', {}, { timeoutMs: 200 }));
    expect(isTameFlareError(err, MessagingErrorCode.Timeout)).toBe(true);
    expect(err.cause).toBeDefined();
  });

  it('fails with TF_ERR_NATS_NO_RESPONDERS when nobody serves the command', async () => {
    const client = await bus('cli5');
    const err = await failure(client.request(Commands.policyDecide, {}));
    expect(isTameFlareError(err, MessagingErrorCode.NoResponders)).toBe(true);
    expect(err.details.subject).toBe(Commands.policyDecide.subject);
  });

  it('fails with TF_ERR_NATS_CLOSED after the bus is closed', async () => {
    const client = await bus('cli6');
    await client.close();
    const err = await failure(client.request('tf.cmd.test.echo', {}));
    expect(isTameFlareError(err, MessagingErrorCode.Closed)).toBe(true);
    expect(client.status().state).toBe('closed');
  });
});

describe('JetStream events', () => {
  beforeAll(async () => {
    const b = await bus('setup');
    await b.ensureStreams({ duplicateWindowMs: 60_000 });
    await b.ensureStreams({ duplicateWindowMs: 60_000 });
    await b.ensureBuckets({ instancesTtlMs: 5000 });
    await b.ensureBuckets({ instancesTtlMs: 5000 });
  });

  it('creates TF_EVENTS on file storage and every KV bucket, idempotently', async () => {
    const jsm = await jetstreamManager((await bus('inspect')).nc);
    const info = await jsm.streams.info(Streams.events.name);
    expect(info.config.subjects).toEqual(['tf.evt.>']);
    expect(info.config.storage).toBe('file');
    expect(info.config.retention).toBe('limits');
    expect(info.config.duplicate_window).toBe(60_000 * 1e6);
    for (const bucket of Object.values(Buckets)) {
      const s = await jsm.streams.info(`KV_${bucket}`);
      expect(s.config.max_age).toBe(bucket === Buckets.instances ? 5000 * 1e6 : 0);
    }
  });

  it('stores an event once when it is published twice with the same id', async () => {
    const b = await bus('publisher');
    const e = gatewayCreated(`gw-${Date.now()}`);
    const first = await b.publishEvent(e);
    const second = await b.publishEvent(e);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ stream: 'TF_EVENTS', seq: first.seq, duplicate: true });
    const jsm = await jetstreamManager(b.nc);
    const subject = `tf.evt.gateway.created.${(e.data as { gatewayId: string }).gatewayId}`;
    const info = await jsm.streams.info('TF_EVENTS', { subjects_filter: subject });
    expect(info.state.subjects).toEqual({ [subject]: 1 });
    const stored = await jsm.streams.getMessage('TF_EVENTS', { seq: first.seq });
    expect(stored?.header.get('Nats-Msg-Id')).toBe(e.id);
    expect(stored?.header.get('Tf-Event-Type')).toBe('GatewayCreated');
    expect(stored?.header.get('Tf-Event-Version')).toBe('1');
    expect(stored?.json()).toEqual(e);
  });

  it('publishes a pipelined batch and returns acks in order', async () => {
    const b = await bus('batch');
    const events = Array.from({ length: 20 }, (_, i) => gatewayCreated(`gw-batch-${i}`));
    const acks = await b.publishEvents(events);
    expect(acks).toHaveLength(20);
    for (let i = 1; i < acks.length; i++) expect(acks[i]!.seq).toBeGreaterThan(acks[i - 1]!.seq);
  });
});

describe('KV', () => {
  it('does get/put/create/update with compare-and-set conflicts and delete', async () => {
    const b = await bus('kv');
    await b.ensureBuckets();
    const kv = await b.kv(Buckets.gateways);
    const r1 = await kv.create('g1', { gatewayId: 'g1', name: 'G1', mode: 'enforce' });
    const dup = await failure(kv.create('g1', { gatewayId: 'g1', name: 'again', mode: 'enforce' }));
    expect(isTameFlareError(dup, MessagingErrorCode.KvConflict)).toBe(true);
    const r2 = await kv.update('g1', { gatewayId: 'g1', name: 'G1', mode: 'monitor' }, r1);
    const stale = await failure(kv.update('g1', { gatewayId: 'g1', name: 'G1', mode: 'enforce' }, r1));
    expect(isTameFlareError(stale, MessagingErrorCode.KvConflict)).toBe(true);
    expect(await kv.get('g1')).toEqual({ value: { gatewayId: 'g1', name: 'G1', mode: 'monitor' }, revision: r2 });
    await kv.delete('g1');
    expect(await kv.get('g1')).toBeNull();
    expect(await kv.create('g1', { gatewayId: 'g1', name: 'G1', mode: 'enforce' })).toBeGreaterThan(r2);
  });

  it('watches: initial values, then puts and deletes in order', async () => {
    const b = await bus('watch');
    await b.ensureBuckets();
    const kv = await b.kv(Buckets.killSwitch);
    await kv.put('all', { n: 1 });
    await kv.put('agent.a', { n: 2 });
    await kv.put('agent.b', { n: 3 });
    await kv.delete('agent.b');
    const changes: string[] = [];
    const w = await b.watchKv<{ n: number }>(Buckets.killSwitch, { onChange: (c) => changes.push(`${c.op}:${c.key}`) });
    await w.ready;
    expect(Object.fromEntries(w.values)).toEqual({ all: { n: 1 }, 'agent.a': { n: 2 } });
    await kv.put('agent.c', { n: 4 });
    await kv.delete('all');
    await waitFor(() => w.has('agent.c') && !w.has('all'));
    expect(changes).toEqual(['put:all', 'put:agent.a', 'put:agent.c', 'delete:all']);
    await w.stop();
  });

  it('a watch on an empty key range is ready at once, and a decode failure hides the value', async () => {
    const b = await bus('watch-empty');
    await b.ensureBuckets();
    const invalid: string[] = [];
    const w = await b.watchKv<{ n: number }>(Buckets.sessions, {
      key: 'nobody.>',
      decode: (v) => {
        if (typeof (v as { n?: unknown }).n !== 'number') throw new Error('bad');
        return v as { n: number };
      },
      onInvalid: (_e, key) => invalid.push(key),
    });
    await w.ready;
    expect(w.size).toBe(0);
    const kv = await b.kv(Buckets.sessions);
    await kv.put('nobody.x', { n: 1 });
    await waitFor(() => w.has('nobody.x'));
    await kv.put('nobody.x', { n: 'one' });
    await waitFor(() => invalid.includes('nobody.x'));
    expect(w.has('nobody.x')).toBe(false);
    await w.stop();
  });
  it('sees entries that stop being refreshed as deleted after expireAfterMs (bucket TTL)', async () => {
    const b = await bus('watch-ttl');
    await b.ensureBuckets({ instancesTtlMs: 5000 });
    const kv = await b.kv(Buckets.instances);
    const changes: string[] = [];
    const w = await b.watchKv(Buckets.instances, { expireAfterMs: 600, onChange: (c) => changes.push(`${c.op}:${c.key}`) });
    await w.ready;
    await kv.put('ingress-stale', { n: 1 });
    await kv.put('ingress-live', { n: 1 });
    const beat = setInterval(() => void kv.put('ingress-live', { n: 2 }), 150);
    try {
      await waitFor(() => changes.includes('delete:ingress-stale'), { timeoutMs: 5000 });
      expect(w.has('ingress-live')).toBe(true);
      expect(changes).not.toContain('delete:ingress-live');
    } finally {
      clearInterval(beat);
      await w.stop();
    }
  });
});

describe('outage', () => {
  it('fails closed with typed errors while NATS is down, and recovers (KV watch included)', async () => {
    const srv = await bus('outage-srv');
    const client = await bus('outage-cli');
    await srv.ensureStreams();
    await srv.ensureBuckets();
    await srv.serve({ subject: 'tf.cmd.test.ping', queue: 'q' }, () => 'pong');
    const kv = await client.kv(Buckets.policy);
    await kv.put('gw', { v: 1 });
    const w = await client.watchKv<{ v: number }>(Buckets.policy);
    await w.ready;
    expect(w.get('gw')).toEqual({ v: 1 });
    const events: string[] = [];
    client.onEvent((e) => events.push(e.type));

    const inFlight = failure(client.request('tf.cmd.test.never', {}, { timeoutMs: 500 }));
    await server.stop();
    await waitFor(() => client.status().state === 'disconnected');
    expect(events).toContain('disconnected');
    const down = await failure(client.request('tf.cmd.test.ping', {}));
    expect(isTameFlareError(down, MessagingErrorCode.Unavailable)).toBe(true);
    const notAcked = await failure(client.publishEvent(gatewayCreated('gw-outage')));
    expect(isTameFlareError(notAcked, MessagingErrorCode.NotAcked)).toBe(true);
    expect(notAcked.details.reason).toBe(MessagingErrorCode.Unavailable);
    const pending = await inFlight;
    expect(isTameFlareError(pending)).toBe(true);
    expect([MessagingErrorCode.Timeout, MessagingErrorCode.NoResponders]).toContain(pending.code);
    await new Promise((r) => setTimeout(r, 50));
    expect(client.status().msSinceContact).toBeGreaterThan(0);

    await server.start();
    await waitFor(() => client.status().state === 'connected' && srv.status().state === 'connected', { timeoutMs: 15_000 });
    expect(events).toContain('reconnected');
    await waitFor(async () => (await client.request('tf.cmd.test.ping', {}).catch(() => null)) === 'pong', { timeoutMs: 10_000 });
    const kv2 = await srv.kv(Buckets.policy);
    await kv2.put('gw', { v: 2 });
    await kv2.put('gw2', { v: 3 });
    await waitFor(() => w.get('gw')?.v === 2 && w.has('gw2'), { timeoutMs: 15_000 });
    expect(w.reloads).toBeGreaterThan(0);
    await w.stop();
  });

  it('keeps a durable consumer consuming across a NATS server restart', async () => {
    const b = await bus('consumer-restart');
    await b.ensureStreams();
    const seen: string[] = [];
    const handle = await b.consume({ stream: 'TF_EVENTS', durable: 'test-restart', filterSubject: 'tf.evt.gateway.created.restart' }, (batch) => {
      for (const m of batch) seen.push(m.event().id);
    });
    const first = gatewayCreated('restart');
    await b.publishEvent(first);
    await waitFor(() => seen.length === 1);
    await server.stop();
    await server.start();
    await waitFor(() => b.status().state === 'connected', { timeoutMs: 15_000 });
    const second = gatewayCreated('restart');
    await waitFor(() => b.publishEvent(second).then(() => true, () => false), { timeoutMs: 15_000 });
    await waitFor(() => seen.length === 2, { timeoutMs: 30_000 });
    expect(seen).toEqual([first.id, second.id]);
    await handle.stop();
  });

  it('fails to connect with TF_ERR_NATS_UNAVAILABLE when no server listens', async () => {
    const err = await failure(connectBus({ servers: 'nats://127.0.0.1:1', name: 'nowhere', connectTimeoutMs: 500 }));
    expect(isTameFlareError(err, MessagingErrorCode.Unavailable)).toBe(true);
  });
});

describe('permissions', () => {
  let locked: TestNatsServer;
  beforeAll(async () => {
    locked = await startNatsServer({
      jetstream: false,
      extraConfig: `authorization {
        users = [
          { user: "ingress", password: "ingress-pw", permissions: { publish: { allow: ["tf.cmd.policy.>", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
          { user: "policy", password: "policy-pw", permissions: { publish: { allow: ["_INBOX.>"] }, subscribe: { allow: ["tf.cmd.policy.>"] } } }
        ]
      }`,
    });
  });
  afterAll(async () => locked?.dispose());

  it('maps a publish permission violation to TF_ERR_NATS_PERMISSION_DENIED and allowed calls still work', async () => {
    const policy = await connectBus({ servers: locked.url, name: 'policy', user: 'policy', pass: 'policy-pw' });
    const ingress = await connectBus({ servers: locked.url, name: 'ingress', user: 'ingress', pass: 'ingress-pw' });
    buses.push(policy, ingress);
    await policy.serve(Commands.policyDecide, () => ({ ok: true }));
    expect(await ingress.request(Commands.policyDecide, {})).toEqual({ ok: true });
    const err = await failure(ingress.request(Commands.vaultRelease, {}));
    expect(isTameFlareError(err, MessagingErrorCode.PermissionDenied)).toBe(true);
    expect(err.details.subject).toBe(Commands.vaultRelease.subject);
    const sub = await failure(ingress.serve(Commands.vaultRelease, () => 'never'));
    expect(isTameFlareError(sub, MessagingErrorCode.PermissionDenied)).toBe(true);
  });

  it('refuses bad credentials with TF_ERR_NATS_PERMISSION_DENIED', async () => {
    const err = await failure(connectBus({ servers: locked.url, name: 'intruder', user: 'ingress', pass: 'wrong' }));
    expect(isTameFlareError(err, MessagingErrorCode.PermissionDenied)).toBe(true);
    expect(err.message).not.toContain('wrong');
  });
});

describe('durable consumer in-process', () => {
  it('hands a backlog over as one batch, redelivers what a failed batch left unsettled, and never redelivers a termed message', async () => {
    const b = await bus('consumer');
    await b.ensureStreams();
    const gw = `gw-c-${uuidv7().slice(-6)}`;
    const ref = { stream: 'TF_EVENTS', durable: `test-${gw}`, filterSubject: `tf.evt.gateway.created.${gw}` };
    await b.publishEvents(Array.from({ length: 5 }, () => gatewayCreated(gw)));
    const { jetstream } = await import('@nats-io/jetstream');
    const poison = await jetstream(b.nc).publish(ref.filterSubject, '{"not":"an event"}');
    const deliveries: number[] = [];
    const termed: number[] = [];
    const batchSizes: number[] = [];
    let failedOnce = false;
    const handle = await b.consume(
      ref,
      (batch) => {
        batchSizes.push(batch.length);
        for (const m of batch) {
          try {
            m.event();
          } catch {
            termed.push(m.seq);
            m.term('not a valid event');
            continue;
          }
          deliveries.push(m.deliveryCount);
        }
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
      },
      { batchSize: 10, nakDelayMs: 50, ackWaitMs: 5000 },
    );
    await waitFor(() => deliveries.filter((d) => d === 2).length === 5, { timeoutMs: 10_000 });
    expect(batchSizes[0]).toBe(6);
    expect(deliveries.filter((d) => d === 1)).toHaveLength(5);
    expect(termed).toEqual([poison.seq]);
    await handle.stop();
    const jsm = await jetstreamManager(b.nc);
    await waitFor(async () => (await jsm.consumers.info('TF_EVENTS', ref.durable)).num_ack_pending === 0, { timeoutMs: 10_000 });
    const info = await jsm.consumers.info('TF_EVENTS', ref.durable);
    expect(info.num_pending).toBe(0);
    expect(info.delivered.stream_seq).toBe(info.ack_floor.stream_seq);
  });
});

describe('with the permission matrix from @tameflare/contracts', () => {
  let matrix: TestNatsServer;
  const pw = (u: string) => `${u}-password-0123456789`;
  const users: NatsUser[] = ['admin', 'ingress', 'policy', 'vault'];
  const as = async (user: NatsUser) => {
    const b = await connectBus({ servers: matrix.url, name: user, user, pass: pw(user), inboxPrefix: inboxPrefixFor(user), requestTimeoutMs: 1000, ackTimeoutMs: 1000 });
    buses.push(b);
    return b;
  };
  beforeAll(async () => {
    matrix = await startNatsServer({ extraConfig: natsAuthorizationConfig({ users, passwords: Object.fromEntries(users.map((u) => [u, pw(u)])) }) });
  });
  afterAll(async () => matrix?.dispose());

  it('lets each service do its job through its own inbox and refuses the rest', async () => {
    const admin = await as('admin');
    await admin.ensureStreams();
    await admin.ensureBuckets();
    const policy = await as('policy');
    const ingress = await as('ingress');
    await policy.serve(Commands.policyDecide, () => ({ decision: 'allow' }));
    expect(await ingress.request(Commands.policyDecide, {})).toEqual({ decision: 'allow' });

    const denied = await failure(ingress.request(Commands.vaultRelease, {}));
    expect(isTameFlareError(denied, MessagingErrorCode.PermissionDenied)).toBe(true);

    await (await admin.kv(Buckets.killSwitch)).put('all', { engaged: true });
    const w = await ingress.watchKv(Buckets.killSwitch);
    await w.ready;
    expect(w.get('all')).toEqual({ engaged: true });
    await w.stop();
  });
});
