import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Commands, EventSubjects, Streams, parseEvent, type ApprovalOpenReply } from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { startApprovalService, type ApprovalService } from './service.ts';
import { openRequest } from './test/fixtures.ts';
import { serviceProcess, type ServiceProcess } from './test/processes.ts';
import type { Logger } from './types.ts';

let nats: TestNatsServer;
let db: TestDatabase;
let store: PostgresEventStore;
let client: Bus;
let service: ApprovalService;
let recorder: ServiceProcess | undefined;
const warnings: string[] = [];
const log: Logger = { debug: () => undefined, info: () => undefined, warn: (_o, m) => void warnings.push(m ?? ''), error: () => undefined };

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase('approval_relay');
  store = createPostgresEventStore({ connectionString: db.url, maxConnections: 4 });
  await store.migrate();
  client = await connectBus({ servers: nats.url, name: 'client', requestTimeoutMs: 5000 });
  // The KV buckets, but no TF_EVENTS stream yet: JetStream cannot take the approval's events.
  await client.ensureBuckets();
  service = await startApprovalService({
    bus: await connectBus({ servers: nats.url, name: 'approval', ackTimeoutMs: 1000 }),
    store,
    log,
    options: { source: 'approval@relay-test', openGraceMs: 2000, vaultTimeoutMs: 2000, webhook: { url: null, dashboardUrl: null, timeoutMs: 1000, maxAttempts: 1, signingSecret: null, voters: {} } },
  });
});
afterAll(async () => {
  await recorder?.dispose();
  await service?.stop();
  await client?.close();
  await store?.close();
  await db?.drop();
  await nats?.dispose();
});

describe('approval events reach JetStream through the recorder relay', () => {
  it('events stored while JetStream could not take them are relayed, and a durable consumer created afterwards receives them', async () => {
    const f = openRequest();
    const { approvalId } = await client.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided });
    await client.request(Commands.approvalVote, { approvalId, voter: 'alice', voterRole: 'approver', vote: 'approve', channel: 'graphql' });
    expect(warnings.some((w) => /not published at once/.test(w))).toBe(true);

    await client.ensureStreams();
    const healthPort = await freePort();
    recorder = serviceProcess({
      name: 'recorder',
      main: 'services/recorder/src/main.ts',
      env: { TF_NATS_URL: nats.url, TF_DATABASE_URL: db.url, TF_INSTANCE_ID: 'recorder-1', TF_HEALTH_PORT: String(healthPort) },
      ready: async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => null))?.status === 200,
    });
    await recorder.start();

    // A SIEM connects later still and creates its own durable consumer on the approval subjects.
    const jsm = await jetstreamManager(client.nc);
    await jsm.consumers.add(Streams.events.name, { durable_name: 'siem', filter_subject: EventSubjects.approvals, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const consumer = await jetstream(client.nc).consumers.get(Streams.events.name, 'siem');
    const seen: string[] = [];
    await waitFor(
      async () => {
        const batch = await consumer.fetch({ max_messages: 50, expires: 1000 });
        for await (const m of batch) {
          const e = parseEvent(m.data);
          if ((e.data as { approvalId?: string }).approvalId === approvalId) seen.push(e.type);
          m.ack();
        }
        return seen.length >= 3;
      },
      { timeoutMs: 20_000, what: 'relayed approval events' },
    );
    expect(seen).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalGranted']);
  });
});
