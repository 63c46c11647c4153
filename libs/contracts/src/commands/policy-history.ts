import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Name, Sha256Hex, Strict, Text, Uuid } from '../schema.ts';

/**
 * `tf.cmd.policy.history` (queue `policy`): the versions of a gateway's policy bundle, read from
 * its `policy-<gateway>` event stream. It lives under the policy service's command area, which
 * the NATS permission matrix already grants it.
 */
export const PolicyHistoryCommand = { subject: 'tf.cmd.policy.history', queue: 'policy' } as const;

export const PolicyHistoryRequestSchema = Type.Object(
  {
    gatewayId: Name,
    /** Include each version's YAML source (default false: metadata only). */
    includeSource: Type.Optional(Type.Boolean()),
  },
  Strict,
);
export type PolicyHistoryRequest = Static<typeof PolicyHistoryRequestSchema>;

/** One published version of a bundle. */
export const PolicyVersionSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    hash: Sha256Hex,
    ruleCount: Type.Integer({ minimum: 0 }),
    publishedBy: Text(200),
    publishedAt: IsoTime,
    /** Id of the PolicyBundlePublished event. */
    eventId: Uuid,
    source: Type.Union([Type.String(), Type.Null()]),
  },
  Strict,
);
export type PolicyVersion = Static<typeof PolicyVersionSchema>;

export const PolicyHistoryReplySchema = Type.Object(
  {
    gatewayId: Name,
    /** The version this replica is enforcing right now, or null when none is active. */
    active: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    /** Oldest first. */
    versions: Type.Array(PolicyVersionSchema),
  },
  Strict,
);
export type PolicyHistoryReply = Static<typeof PolicyHistoryReplySchema>;
