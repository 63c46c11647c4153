import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, Strict, Uuid } from '../schema.ts';
import { IngressKeySchema, SealedCredentialSchema } from '../sealed.ts';

/**
 * `tf.cmd.policy.decide`: the ingress asks for a decision on an action it has classified.
 * `requested` is the `ActionRequested` event the ingress publishes to JetStream in parallel.
 */
export const DecideRequestSchema = Type.Object(
  {
    requested: Type.Unknown({ description: 'ActionRequested event envelope (validated with validateEvent)' }),
    ingress: IngressKeySchema,
  },
  Strict,
);
export type DecideRequest = Static<typeof DecideRequestSchema>;

/**
 * The answer, sent only after `decided` is durably in JetStream. `credential` is set when the
 * action may go upstream (allow, or any decision in monitor mode) and its connector injects a
 * secret. `approval` is set for `require_approval`: `pending` means hold the request;
 * `granted` means an identical request was already approved and may be claimed once.
 */
export const DecideReplySchema = Type.Object(
  {
    decided: Type.Unknown({ description: 'ActionDecided event envelope, as recorded' }),
    credential: Type.Union([SealedCredentialSchema, Type.Null()]),
    approval: Type.Union([
      Type.Object(
        { approvalId: Uuid, status: Type.Union([Type.Literal('pending'), Type.Literal('granted')]), expiresAt: IsoTime },
        Strict,
      ),
      Type.Null(),
    ]),
  },
  Strict,
);
export type DecideReply = Static<typeof DecideReplySchema>;

/** `tf.cmd.policy.publish`: validate a bundle and make it the gateway's active policy. */
export const PublishPolicyRequestSchema = Type.Object(
  {
    gatewayId: Type.String(),
    source: Type.String({ maxLength: 4 * 1024 * 1024 }),
    /** File name used in validation messages (`policy.yaml:12:5: ...`). */
    fileName: Type.String({ maxLength: 500 }),
    publishedBy: Type.String({ maxLength: 200 }),
    /** Refuse if the active version is not this one (optimistic concurrency for CI pipelines). */
    expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  Strict,
);
export type PublishPolicyRequest = Static<typeof PublishPolicyRequestSchema>;
export const PublishPolicyReplySchema = Type.Object(
  { gatewayId: Type.String(), version: Type.Integer({ minimum: 1 }), hash: Type.String(), ruleCount: Type.Integer({ minimum: 0 }) },
  Strict,
);
export type PublishPolicyReply = Static<typeof PublishPolicyReplySchema>;
