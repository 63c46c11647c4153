import {
  Buckets,
  ContractError,
  ContractErrorCode,
  createEvent,
  isTameFlareError,
  isValidName,
  uuidv7,
  type EventEnvelope,
  type PolicyEntry,
  type PublishPolicyReply,
  type PublishPolicyRequest,
} from '@tameflare/contracts';
import type { EventStore, ExpectedVersion } from '@tameflare/event-store';
import { isMessagingError, MessagingErrorCode, type Bus, type MessageContext } from '@tameflare/messaging';
import { compileBundle, type ActionCatalog } from '@tameflare/policy-engine';
import { PolicyServiceError, PolicyServiceErrorCode } from './errors.ts';

export interface PublisherOptions {
  bus: Bus;
  store: EventStore;
  source: string;
  /** Known connectors and action types: globs matching none of them are refused. */
  catalog?: ActionCatalog;
}

/** The event-store stream holding a gateway's bundle versions. */
export const policyStream = (gatewayId: string) => `policy-${gatewayId}`;

/** The last published version of a gateway's bundle, and the stream version to append after. */
export async function lastPublished(store: EventStore, gatewayId: string): Promise<{ event: EventEnvelope<'PolicyBundlePublished'> | null; expected: ExpectedVersion }> {
  const head = await store.readStream(policyStream(gatewayId), { maxCount: 1 });
  if (head.version === 'no_stream') return { event: null, expected: 'no_stream' };
  const tail = await store.readStream(policyStream(gatewayId), { fromVersion: head.version, maxCount: 1 });
  const last = tail.events[0]?.event;
  return { event: last?.type === 'PolicyBundlePublished' ? last : null, expected: head.version };
}

/**
 * The `tf.cmd.policy.publish` handler: validate (refusing with every error, positioned), append
 * PolicyBundlePublished to `policy-<gateway>` with an expected version, then make it the active
 * entry in KV `tf_policy`, which every replica watches. A bundle that fails validation never
 * reaches the event store or KV.
 */
export function createPublisher(options: PublisherOptions): (req: PublishPolicyRequest, ctx: MessageContext) => Promise<PublishPolicyReply> {
  const { bus, store, source } = options;

  /** Makes `entry` active unless a newer version already is (publishes may finish out of order). */
  const activate = async (entry: PolicyEntry): Promise<void> => {
    const kv = await bus.kv(Buckets.policy);
    for (let i = 0; i < 10; i++) {
      const current = await kv.get<PolicyEntry>(entry.gatewayId);
      if (current && current.value.version >= entry.version) return;
      try {
        if (current) await kv.update(entry.gatewayId, entry, current.revision);
        else await kv.create(entry.gatewayId, entry);
        return;
      } catch (err) {
        if (!isMessagingError(err, MessagingErrorCode.KvConflict)) throw err;
      }
    }
  };
  const entryOf = (e: EventEnvelope<'PolicyBundlePublished'>): PolicyEntry => ({
    gatewayId: e.data.gatewayId,
    version: e.data.version,
    hash: e.data.hash,
    source: e.data.source,
    publishedAt: e.time,
  });
  const activateOrFail = async (e: EventEnvelope<'PolicyBundlePublished'>) => {
    try {
      await activate(entryOf(e));
    } catch (err) {
      throw new PolicyServiceError(
        PolicyServiceErrorCode.PublishNotRecorded,
        `version ${e.data.version} of gateway "${e.data.gatewayId}" is recorded but could not be activated (${(err as Error).message}); apply the same file again to activate it`,
        { cause: err },
      );
    }
  };

  return async (req, ctx) => {
    if (!isValidName(req.gatewayId)) throw new ContractError(ContractErrorCode.Schema, `"${req.gatewayId}" is not a gateway id`);
    const bundle = compileBundle(req.source, { fileName: req.fileName, ...(options.catalog ? { catalog: options.catalog } : {}) });
    for (let attempt = 0; attempt < 5; attempt++) {
      let last: Awaited<ReturnType<typeof lastPublished>>;
      try {
        last = await lastPublished(store, req.gatewayId);
      } catch (err) {
        throw new PolicyServiceError(PolicyServiceErrorCode.PublishNotRecorded, `the policy history of gateway "${req.gatewayId}" could not be read: ${(err as Error).message}`, { cause: err });
      }
      const currentVersion = last.event?.data.version ?? 0;
      if (req.expectedVersion !== undefined && req.expectedVersion !== currentVersion) {
        throw new PolicyServiceError(
          PolicyServiceErrorCode.VersionConflict,
          `gateway "${req.gatewayId}" is at policy version ${currentVersion}, not ${req.expectedVersion}: someone published meanwhile`,
          { details: { gatewayId: req.gatewayId, expectedVersion: req.expectedVersion, currentVersion } },
        );
      }
      if (last.event && last.event.data.hash === bundle.hash) {
        // Same content: no new version; make sure it is the active one (repairs an interrupted publish).
        await activateOrFail(last.event);
        return { gatewayId: req.gatewayId, version: currentVersion, hash: bundle.hash, ruleCount: bundle.ruleCount };
      }
      const event = createEvent(
        'PolicyBundlePublished',
        { gatewayId: req.gatewayId, version: currentVersion + 1, hash: bundle.hash, source: bundle.source, ruleCount: bundle.ruleCount, publishedBy: req.publishedBy },
        { correlationId: uuidv7(), traceparent: ctx.traceparent ?? null, source },
      );
      try {
        await store.append(policyStream(req.gatewayId), [event], { expectedVersion: last.expected });
      } catch (err) {
        if (isTameFlareError(err, 'TF_ERR_STORE_WRONG_VERSION')) {
          if (req.expectedVersion !== undefined) {
            throw new PolicyServiceError(PolicyServiceErrorCode.VersionConflict, `gateway "${req.gatewayId}" got another policy version meanwhile`, { cause: err });
          }
          continue;
        }
        throw new PolicyServiceError(PolicyServiceErrorCode.PublishNotRecorded, `the new policy version was not recorded; the live policy did not change: ${(err as Error).message}`, { cause: err });
      }
      await activateOrFail(event);
      return { gatewayId: req.gatewayId, version: event.data.version, hash: bundle.hash, ruleCount: bundle.ruleCount };
    }
    throw new PolicyServiceError(PolicyServiceErrorCode.VersionConflict, `gateway "${req.gatewayId}" kept getting new policy versions; try again`);
  };
}
