import { isTameFlareError, type EventData } from '@tameflare/contracts';
import { deadlineOf, type OpenedApproval } from '@tameflare/approvals';
import type { KvBucket, KvValue } from '@tameflare/messaging';
import { decodeSlot, slotKey, type ApprovalSlot } from './slots.ts';
import type { Logger } from './types.ts';

export interface SlotStore {
  /** The slot, or null when absent; a malformed value reads as `{ malformed }` so it can be replaced. */
  get(key: string): Promise<(KvValue<ApprovalSlot> & { malformed?: false }) | { malformed: true; revision: number } | null>;
  /** Binds a new approval to an empty slot. @throws `TF_ERR_KV_CONFLICT` when someone else did first. */
  create(key: string, slot: ApprovalSlot): Promise<number>;
  /** Rebinds a slot still at `revision`. @throws `TF_ERR_KV_CONFLICT` */
  replace(key: string, slot: ApprovalSlot, revision: number): Promise<number>;
  /** Removes the slot of a settled approval (only if it still points to it). Best effort. */
  release(s: OpenedApproval): Promise<void>;
  /** Removes a slot at `revision`. Best effort. */
  drop(key: string, revision: number): Promise<void>;
}

/** The slot value for a new approval. */
export function slotFor(d: EventData<'ApprovalRequested'>, now: Date): ApprovalSlot {
  return {
    approvalId: d.approvalId,
    runId: d.runId,
    requestDigest: d.requestDigest,
    gatewayId: d.gatewayId,
    agentId: d.agentId,
    connector: d.request.action.connector,
    expiresAt: d.expiresAt,
    createdAt: now.toISOString(),
  };
}

export async function createSlotStore(kvp: Promise<KvBucket>, log: Logger): Promise<SlotStore> {
  const kv = await kvp;
  const drop = async (key: string, revision: number) => {
    try {
      await kv.delete(key, { revision });
    } catch (err) {
      if (!isTameFlareError(err, 'TF_ERR_KV_CONFLICT')) log.warn({ err, key }, 'could not release an approval slot; it is cleaned up later');
    }
  };
  return {
    async get(key) {
      const v = await kv.get<unknown>(key);
      if (!v) return null;
      try {
        return { value: decodeSlot(v.value), revision: v.revision };
      } catch {
        return { malformed: true, revision: v.revision };
      }
    },
    create: (key, slot) => kv.create(key, slot),
    replace: (key, slot, revision) => kv.update(key, slot, revision),
    drop,
    async release(s) {
      if (deadlineOf(s) !== null) return;
      const key = slotKey(s.request.runId, s.request.requestDigest);
      try {
        const v = await kv.get<ApprovalSlot>(key);
        if (v && v.value.approvalId === s.request.approvalId) await drop(key, v.revision);
      } catch (err) {
        log.warn({ err, key }, 'could not release an approval slot; it is cleaned up later');
      }
    },
  };
}

