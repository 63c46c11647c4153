/**
 * Approvals over real NATS and PostgreSQL: one approval-service replica (as main.ts wires it)
 * and the real vault, on a private nats-server and a fresh database. Times each command as the
 * policy service, an approver and an ingress see it, and how late expiry timers fire when many
 * approvals time out at once.
 */
import { Buckets, Commands, uuidv7, type ApprovalClaimReply, type ApprovalOpenReply, type ConnectorEntry } from '../../libs/contracts/src/index.ts';
import { createPostgresEventStore } from '../../libs/event-store/src/index.ts';
import { connectBus } from '../../libs/messaging/src/index.ts';
import { createTestDatabase, startNatsServer, waitFor } from '../../libs/testing/src/index.ts';
import { createIngressKeyPair, generateMasterKey, openCredential, sealSecretValue } from '../../libs/vault-crypto/src/index.ts';
import { approvalStream } from '../../services/approval/src/repository.ts';
import { startApprovalService } from '../../services/approval/src/service.ts';
import { openRequest } from '../../services/approval/src/test/fixtures.ts';
import { quietLog } from '../../services/approval/src/test/env.ts';
import { keyringOf, startVault } from '../../services/vault/src/test/support.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const N = quick ? 200 : 1000;
const EXPIRING = quick ? 100 : 500;
const rows: (string | number)[][] = [];
const data: Record<string, unknown> = {};
function row(name: string, samplesUs: number[]) {
  const p = percentiles(samplesUs, [50, 90, 99]);
  rows.push([name, `${fmt(p.p50! / 1000)} ms`, `${fmt(p.p90! / 1000)} ms`, `${fmt(p.p99! / 1000)} ms`, samplesUs.length]);
  data[name] = { p50us: p.p50, p90us: p.p90, p99us: p.p99, n: samplesUs.length };
}
const timed = async <T>(out: number[], fn: () => Promise<T>): Promise<T> => {
  const t = process.hrtime.bigint();
  const r = await fn();
  out.push(Number(process.hrtime.bigint() - t) / 1000);
  return r;
};

const nats = await startNatsServer();
const db = await createTestDatabase('bench_approval');
const vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(generateMasterKey()) });
const store = createPostgresEventStore({ connectionString: db.url });
const client = await connectBus({ servers: nats.url, name: 'bench', requestTimeoutMs: 10_000 });
await client.ensureBuckets();
const serviceBus = await connectBus({ servers: nats.url, name: 'approval@bench', requestTimeoutMs: 5000 });
const service = await startApprovalService({
  bus: serviceBus,
  store,
  log: quietLog,
  options: { source: 'approval@bench', openGraceMs: 5000, vaultTimeoutMs: 5000, webhook: { url: null, dashboardUrl: null, timeoutMs: 5000, maxAttempts: 3, signingSecret: null, voters: {} } },
});
try {
  const pk = await client.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
  await client.request(Commands.vaultSecretPut, { gatewayId: 'default', name: 'stripe-key', box: sealSecretValue('sk_test_bench_0123456789', pk.publicKey, { gatewayId: 'default', name: 'stripe-key' }), source: 'api', actor: 'bench', mode: 'set' });
  const connector: ConnectorEntry = { gatewayId: 'default', connectorId: 'stripe', kind: 'stripe', secretName: 'stripe-key', injection: { kind: 'bearer' }, domains: [], options: {} };
  await (await client.kv(Buckets.connectors)).put('default.stripe', connector);
  const ingress = { ...createIngressKeyPair(), id: 'ingress-bench' };

  const opens: number[] = [];
  const joins: number[] = [];
  const votes: number[] = [];
  const statuses: number[] = [];
  const claims: number[] = [];
  const lifecycle: number[] = [];
  const one = async (record: boolean) => {
    const t = process.hrtime.bigint();
    const f = openRequest();
    const sink = record ? undefined : ([] as number[]);
    const { approvalId } = await timed(sink ?? opens, () => client.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided }));
    await timed(sink ?? joins, () => client.request(Commands.approvalOpen, { requested: f.requested, decided: f.decided }));
    await timed(sink ?? votes, () => client.request(Commands.approvalVote, { approvalId, voter: 'alice', voterRole: 'approver', vote: 'approve', channel: 'cli' }));
    await timed(sink ?? statuses, () => client.request(Commands.approvalStatus, { approvalId }));
    const actionId = uuidv7();
    const reply = await timed(sink ?? claims, () =>
      client.request<ApprovalClaimReply>(Commands.approvalClaim, { approvalId, actionId, runId: f.runId, requestDigest: f.requestDigest, ingress: { id: ingress.id, publicKey: ingress.publicKey } }),
    );
    openCredential(reply.credential!, ingress.privateKey, { actionId, ingressId: ingress.id });
    if (record) lifecycle.push(Number(process.hrtime.bigint() - t) / 1000);
  };
  for (let i = 0; i < Math.min(100, N); i++) await one(false);
  for (let i = 0; i < N; i++) await one(true);
  row('open a new approval (validate, KV slot create, append ApprovalRequested, publish)', opens);
  row('open an identical request again (joins the pending approval)', joins);
  row('vote that reaches the quorum (append VoteRecorded + Granted, publish)', votes);
  row('status', statuses);
  row('claim (append ApprovalConsumed, vault release sealed to the ingress, slot released)', claims);
  row('whole lifecycle: open, join, vote, status, claim + open the credential', lifecycle);

  // Many approvals timing out together: how late does ApprovalExpired land after expiresAt?
  const expiring: { id: string; expiresAt: number }[] = [];
  for (let i = 0; i < EXPIRING; i++) {
    const f = openRequest({ timeoutMs: 3000 });
    const r = await client.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided });
    expiring.push({ id: r.approvalId, expiresAt: Date.parse(r.expiresAt) });
  }
  const lateness: number[] = [];
  await waitFor(
    async () => {
      lateness.length = 0;
      for (const e of expiring) {
        const ev = (await store.readStream(approvalStream(e.id))).events.find((x) => x.event.type === 'ApprovalExpired');
        if (!ev) return false;
        lateness.push((Date.parse(ev.event.time) - e.expiresAt) * 1000);
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'every approval expired' },
  );
  row(`expiry lateness, ${EXPIRING} approvals due within a few seconds (ApprovalExpired time − expiresAt)`, lateness);

  emit({
    suite: 'approval',
    title: 'Approvals: commands over NATS and PostgreSQL, expiry timers',
    description:
      'One approval-service replica and the real vault on a private nats-server (JetStream file store) and a fresh PostgreSQL database. A client sends each command as the policy service (open), an approver (vote, status) and an ingress (claim) would, sequentially on one connection; every write is an event-store append with an expected version, followed by a JetStream publish of the same events.',
    columns: ['operation', 'p50', 'p90', 'p99', 'samples'],
    rows,
    notes: [
      'Approvals are off the hot path: only require_approval requests open one, and a human answers in seconds. These figures bound what the service adds around that wait.',
      'Machine shared with other engineers’ workloads (2 cores); treat p99 as an upper bound.',
    ],
    data,
  });
} finally {
  await service.stop();
  await serviceBus.close();
  await client.close();
  await store.close();
  await vault.stop();
  await db.drop();
  await nats.dispose();
}
