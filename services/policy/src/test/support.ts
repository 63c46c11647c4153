import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  Commands,
  createEvent,
  TameFlareError,
  uuidv7,
  type Action,
  type ApprovalOpenReply,
  type EventEnvelope,
  type TameFlareEvent,
  type VaultReleaseRequest,
} from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createIngressKeyPair, sealCredential, type RecipientKeyPair } from '@tameflare/vault-crypto';
import { startPolicyService, type PolicyService, type PolicyServiceOptions } from '../policy-service.ts';

/** One policy replica on its own NATS connection, as main.ts runs it. */
export interface Replica {
  name: string;
  bus: Bus;
  service: PolicyService;
  stop(): Promise<void>;
}

export async function startReplica(natsUrl: string, store: PostgresEventStore, name: string, extra: Partial<PolicyServiceOptions> = {}): Promise<Replica> {
  const bus = await connectBus({ servers: natsUrl, name: `policy@${name}`, requestTimeoutMs: 5000, ackTimeoutMs: 5000 });
  const service = await startPolicyService({ bus, store, instanceId: name, downstreamTimeoutMs: 5000, ...extra });
  return {
    name,
    bus,
    service,
    stop: async () => {
      await service.stop();
      await bus.drain().catch(() => undefined);
    },
  };
}

export async function openStore(databaseUrl: string): Promise<PostgresEventStore> {
  const store = createPostgresEventStore({ connectionString: databaseUrl, maxConnections: 4 });
  await store.migrate();
  return store;
}

/**
 * Stand-ins for the vault and approval services, answering the same contracts over real NATS.
 * The vault one seals a fixed value per secret name to the asking ingress with vault-crypto, so
 * the ingress side opens it exactly as it would a real release.
 */
export interface Downstream {
  secrets: Map<string, string>;
  releases: VaultReleaseRequest[];
  approvals: { requested: EventEnvelope<'ActionRequested'>; decided: EventEnvelope<'ActionDecided'> }[];
  stop(): Promise<void>;
}

export async function startDownstream(natsUrl: string): Promise<Downstream> {
  const bus = await connectBus({ servers: natsUrl, name: 'downstream@test', requestTimeoutMs: 5000 });
  const secrets = new Map<string, string>();
  const releases: VaultReleaseRequest[] = [];
  const approvals: Downstream['approvals'] = [];
  await bus.serve(Commands.vaultRelease, (req: VaultReleaseRequest) => {
    releases.push(req);
    const value = secrets.get(req.secretName);
    if (value === undefined) {
      throw new TameFlareError('TF_ERR_VAULT_SECRET_MISSING', `secret "${req.secretName}" does not exist on gateway "${req.gatewayId}"`, {
        details: { secretName: req.secretName, gatewayId: req.gatewayId },
      });
    }
    const credential = sealCredential(
      Buffer.from(value),
      req.ingress.publicKey,
      { actionId: req.actionId, ingressId: req.ingress.id, secretName: req.secretName, secretVersion: 1 },
      req.injection,
    );
    return { credential };
  });
  await bus.serve(Commands.approvalOpen, (req: { requested: EventEnvelope<'ActionRequested'>; decided: EventEnvelope<'ActionDecided'> }): ApprovalOpenReply => {
    approvals.push(req);
    return { approvalId: uuidv7(), status: 'pending', expiresAt: new Date(Date.now() + (req.decided.data.approval?.timeoutMs ?? 60_000)).toISOString() };
  });
  return { secrets, releases, approvals, stop: () => bus.drain().catch(() => undefined) };
}

/** The ingress side of a request: its key pair and the ActionRequested it records. */
export function ingressKey(id = 'ingress-test'): RecipientKeyPair & { id: string } {
  return { ...createIngressKeyPair(), id };
}

export function requested(action: Partial<Action> & { type: string }, o: { gatewayId?: string; agentId?: string; runId?: string } = {}): EventEnvelope<'ActionRequested'> {
  const actionId = uuidv7();
  return createEvent(
    'ActionRequested',
    {
      actionId,
      gatewayId: o.gatewayId ?? 'default',
      agentId: o.agentId ?? 'agent-1',
      runId: o.runId ?? '01900000-0000-7000-8000-000000000001',
      agentName: o.agentId ?? 'agent-1',
      ingressId: 'ingress-test',
      connectionId: 'conn-1',
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'api.example.com',
        port: 443,
        path: '/x',
        query: '',
        contentType: null,
        contentLength: null,
        bodyDigest: null,
        bodyTruncated: false,
        userAgent: null,
      },
      action: { connector: action.type.split('.')[0]!, resource: null, params: {}, risk: 'write', notes: [], ...action },
      classifierVersion: 'test',
      requestDigest: '0'.repeat(64),
    },
    { correlationId: actionId, source: 'ingress@test' },
  );
}

/** Every event stored in TF_EVENTS under `subject` (a wildcard pattern), oldest first. */
export async function streamEvents(bus: Bus, subject: string): Promise<TameFlareEvent[]> {
  const jsm = await jetstreamManager(bus.nc);
  const consumer = await jsm.consumers.add('TF_EVENTS', { filter_subject: subject, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 10_000_000_000 });
  const js = jetstream(bus.nc);
  const c = await js.consumers.get('TF_EVENTS', consumer.name);
  const out: TameFlareEvent[] = [];
  let pending = consumer.num_pending;
  while (pending > 0) {
    const batch = await c.fetch({ max_messages: Math.min(pending, 500), expires: 2000 });
    for await (const m of batch) {
      out.push(m.json<TameFlareEvent>());
      pending--;
    }
  }
  await jsm.consumers.delete('TF_EVENTS', consumer.name).catch(() => undefined);
  return out;
}
