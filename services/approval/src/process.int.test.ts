import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Buckets,
  Commands,
  isTameFlareError,
  uuidv7,
  type ApprovalClaimReply,
  type ApprovalOpenReply,
  type ApprovalStatusReply,
  type ConnectorEntry,
} from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { createIngressKeyPair, generateMasterKey, openCredential, sealSecretValue } from '@tameflare/vault-crypto';
import { approvalStream } from './repository.ts';
import { openRequest } from './test/fixtures.ts';
import { serviceProcess, type ServiceProcess } from './test/processes.ts';
import { SlackActions } from './webhook/slack-message.ts';
import { slackSignature } from './webhook/slack-signature.ts';

const STRIPE_KEY = 'sk_test_approvalProcess_51Hqwertyuiop';
const SIGNING_SECRET = 'process-test-signing-secret-0123456789';

let nats: TestNatsServer;
let db: TestDatabase;
let store: PostgresEventStore;
let client: Bus;
let vault: ServiceProcess;
let approval: ServiceProcess;
let httpPort: number;
const ingress = { ...createIngressKeyPair(), id: 'ingress-proc' };

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase('approval_proc');
  client = await connectBus({ servers: nats.url, name: 'policy@test', requestTimeoutMs: 5000 });
  await client.ensureStreams();
  await client.ensureBuckets();
  const base = { TF_NATS_URL: nats.url, TF_DATABASE_URL: db.url };
  vault = serviceProcess({
    name: 'vault',
    main: 'services/vault/src/main.ts',
    env: { ...base, TF_VAULT_MASTER_KEY: generateMasterKey(), TF_INSTANCE_ID: 'vault-1' },
    ready: () => client.request(Commands.vaultPublicKey, {}, { timeoutMs: 500 }).then(() => true, () => false),
  });
  httpPort = await freePort();
  approval = serviceProcess({
    name: 'approval',
    main: 'services/approval/src/main.ts',
    env: {
      ...base,
      TF_INSTANCE_ID: 'approval-1',
      TF_APPROVAL_SLACK_SIGNING_SECRET: SIGNING_SECRET,
      TF_APPROVAL_SLACK_VOTERS: 'U0ALICE=alice:approver,U0BOB=bob:approver',
      TF_APPROVAL_HTTP_PORT: String(httpPort),
    },
    ready: () => client.request(Commands.approvalStatus, { approvalId: uuidv7() }, { timeoutMs: 500 }).then(() => true, (err) => isTameFlareError(err, 'TF_ERR_APPROVAL_NOT_FOUND')),
  });
  await vault.start();
  await approval.start();
  const pk = await client.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
  await client.request(Commands.vaultSecretPut, {
    gatewayId: 'default',
    name: 'stripe-key',
    box: sealSecretValue(STRIPE_KEY, pk.publicKey, { gatewayId: 'default', name: 'stripe-key' }),
    source: 'stdin',
    actor: 'test',
    mode: 'set',
  });
  const connector: ConnectorEntry = { gatewayId: 'default', connectorId: 'stripe', kind: 'stripe', secretName: 'stripe-key', injection: { kind: 'bearer' }, domains: [], options: {} };
  await (await client.kv(Buckets.connectors)).put('default.stripe', connector);
  store = createPostgresEventStore({ connectionString: db.url, maxConnections: 2 });
});

afterAll(async () => {
  await approval?.dispose();
  await vault?.dispose();
  await client?.close();
  await store?.close();
  await db?.drop();
  await nats?.dispose();
});

const open = (f: ReturnType<typeof openRequest>) => client.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided });
const status = (approvalId: string) => client.request<ApprovalStatusReply>(Commands.approvalStatus, { approvalId });
const vote = (approvalId: string, voter: string) => client.request<ApprovalStatusReply>(Commands.approvalVote, { approvalId, voter, voterRole: 'approver', vote: 'approve', channel: 'cli' });
const types = async (id: string) => (await store.readStream(approvalStream(id))).events.map((e) => e.event.type);

describe('the approval service as a process, with the real vault', () => {
  it('a pending approval survives a crash of the service: start it again, approve, and the request is released with the credential', async () => {
    const f = openRequest({ quorum: 2, timeoutMs: 120_000 });
    const { approvalId } = await open(f);
    expect((await vote(approvalId, 'alice')).status).toBe('pending');

    await approval.kill();
    await expect(vote(approvalId, 'bob')).rejects.toMatchObject({ code: expect.stringMatching(/^TF_ERR_NATS_(NO_RESPONDERS|TIMEOUT)$/) });
    await approval.start();

    expect(await status(approvalId)).toMatchObject({ status: 'pending', approvals: ['alice'] });
    // The identical request retried by the agent joins the same approval after the restart.
    expect((await open(openRequest({ runId: f.runId, requestDigest: f.requestDigest }))).approvalId).toBe(approvalId);
    expect((await vote(approvalId, 'bob')).status).toBe('granted');

    const actionId = uuidv7();
    const reply = await client.request<ApprovalClaimReply>(Commands.approvalClaim, {
      approvalId,
      actionId,
      runId: f.runId,
      requestDigest: f.requestDigest,
      ingress: { id: ingress.id, publicKey: ingress.publicKey },
    });
    expect(openCredential(reply.credential!, ingress.privateKey, { actionId, ingressId: ingress.id })).toBe(STRIPE_KEY);
    expect(approval.log()).not.toContain(STRIPE_KEY);
    expect(vault.log()).not.toContain(STRIPE_KEY);
    expect(await types(approvalId)).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalVoteRecorded', 'ApprovalGranted', 'ApprovalConsumed']);
  });

  it('an approval whose deadline passes while the service is down expires when it comes back', async () => {
    const f = openRequest({ timeoutMs: 1500 });
    const { approvalId } = await open(f);
    await approval.stop();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await types(approvalId)).toEqual(['ApprovalRequested']);
    await approval.start();
    await waitFor(async () => (await types(approvalId)).includes('ApprovalExpired'), { timeoutMs: 10_000, what: 'expiry after restart' });
    expect((await status(approvalId)).status).toBe('expired');
  });

  it('the Slack callback on the service port records a signed vote and refuses a bad signature', async () => {
    const { approvalId } = await open(openRequest());
    const post = (body: string, secret = SIGNING_SECRET) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return fetch(`http://127.0.0.1:${httpPort}/webhooks/slack/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, body) },
        body,
      });
    };
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0BOB' }, actions: [{ action_id: SlackActions.approve, value: approvalId }] }))}`;
    const forged = await post(body, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(await types(approvalId)).toEqual(['ApprovalRequested']);
    const ok = await post(body);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'granted', approvals: ['bob'] });
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    expect(await approval.stop()).toBe(0);
    await approval.start();
  });
});
