import { ContractError, ContractErrorCode, isValidName, type PolicyHistoryReply, type PolicyHistoryRequest } from '@tameflare/contracts';
import type { EventStore } from '@tameflare/event-store';
import type { BundleRegistry } from './bundle-registry.ts';
import { PolicyServiceError, PolicyServiceErrorCode } from './errors.ts';
import { policyStream } from './publish.ts';

/** The `tf.cmd.policy.history` handler: every published version, from the event store. */
export function createHistory(store: EventStore, registry: BundleRegistry): (req: PolicyHistoryRequest) => Promise<PolicyHistoryReply> {
  return async (req) => {
    if (!isValidName(req.gatewayId)) throw new ContractError(ContractErrorCode.Schema, `"${req.gatewayId}" is not a gateway id`);
    let events;
    try {
      events = (await store.readStream(policyStream(req.gatewayId))).events;
    } catch (err) {
      throw new PolicyServiceError(PolicyServiceErrorCode.HistoryUnavailable, `the policy history could not be read: ${(err as Error).message}`, { cause: err });
    }
    const versions = events.flatMap(({ event: e }) =>
      e.type === 'PolicyBundlePublished'
        ? [{ version: e.data.version, hash: e.data.hash, ruleCount: e.data.ruleCount, publishedBy: e.data.publishedBy, publishedAt: e.time, eventId: e.id, source: req.includeSource ? e.data.source : null }]
        : [],
    );
    return { gatewayId: req.gatewayId, active: registry.get(req.gatewayId)?.version ?? null, versions };
  };
}
