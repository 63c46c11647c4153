import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Type, type Static } from '@sinclair/typebox';
import { schemas } from '@tameflare/contracts';

/**
 * Value of KV `tf_approval_slots` under `<runId>.<requestDigest>`: the approval an identical
 * request of the same run joins. A slot exists while its approval is live (pending, or granted
 * and not yet claimed), so the bucket doubles as the index of approvals that need a timer or a
 * kill-switch check; it is rebuilt from the approval streams whenever a slot is found stale.
 */
export const ApprovalSlotSchema = Type.Object(
  {
    approvalId: schemas.Uuid,
    runId: schemas.Uuid,
    requestDigest: schemas.Sha256Hex,
    gatewayId: schemas.Name,
    agentId: schemas.Name,
    connector: schemas.Name,
    /** Deadline of the pending approval; the scheduler re-reads the stream when it fires. */
    expiresAt: schemas.IsoTime,
    createdAt: schemas.IsoTime,
  },
  schemas.Strict,
);
export type ApprovalSlot = Static<typeof ApprovalSlotSchema>;

const check = TypeCompiler.Compile(ApprovalSlotSchema);

/** Validates a slot value read from KV; a malformed slot is treated as absent. */
export function decodeSlot(value: unknown): ApprovalSlot {
  if (!check.Check(value)) throw new TypeError(`malformed approval slot: ${check.Errors(value).First()?.message ?? 'invalid'}`);
  return value;
}

/** The slot key of a (run, request digest) pair. Both parts are subject-safe (uuid, hex). */
export function slotKey(runId: string, requestDigest: string): string {
  return `${runId}.${requestDigest}`;
}
