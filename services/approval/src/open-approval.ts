import { isTameFlareError, type ApprovalOpenReply, type ApprovalOpenRequest } from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError, deadlineOf, isExpiryDue, type OpenedApproval } from '@tameflare/approvals';
import { approvalRequestedData, parseOpenInput, type OpenInput } from './open-request.ts';
import type { ApprovalRepository } from './repository.ts';
import { slotFor, type SlotStore } from './slot-store.ts';
import { slotKey } from './slots.ts';
import type { Clock } from './types.ts';

export interface OpenDeps {
  repo: ApprovalRepository;
  slots: SlotStore;
  clock: Clock;
  /** How long a slot may point to an approval whose first event is not stored yet before it counts as abandoned. */
  openGraceMs: number;
  /** Applies engaged kill switches to a newly opened approval. */
  afterOpen: (s: OpenedApproval) => Promise<void>;
  /** Called when a settled approval is seen, to release its slot. */
  settled: (s: OpenedApproval) => Promise<void>;
}

const MAX_WAIT_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `tf.cmd.approval.open`: opens the approval for this request or joins the one already bound to
 * the same run and request digest. A pending approval is joined; a granted, unclaimed one is
 * returned as granted (the ingress claims it); a settled one (consumed, denied, expired,
 * cancelled) makes room for a new approval. The slot is taken with create / compare-and-set, so
 * two replicas opening for the same request at once end with one approval.
 */
export async function openApproval(deps: OpenDeps, payload: ApprovalOpenRequest, traceparent?: string): Promise<ApprovalOpenReply> {
  const input = parseOpenInput(payload);
  const r = input.requested.data;
  const key = slotKey(r.runId, r.requestDigest);
  const giveUpAt = Date.now() + MAX_WAIT_MS;
  for (;;) {
    if (Date.now() > giveUpAt) throw approvalError(ApprovalErrorCode.Conflict, 'could not bind the approval slot in time; try again', { details: { key } });
    const slot = await deps.slots.get(key);
    if (!slot) {
      const opened = await start(deps, input, key, (s) => deps.slots.create(key, s), traceparent);
      if (opened) return opened;
      continue;
    }
    if (slot.malformed) {
      const opened = await start(deps, input, key, (s) => deps.slots.replace(key, s, slot.revision), traceparent);
      if (opened) return opened;
      continue;
    }
    const { state } = await deps.repo.load(slot.value.approvalId);
    if (!state.exists) {
      // Another replica is between taking the slot and storing the first event, or died there.
      if (deps.clock().getTime() - Date.parse(slot.value.createdAt) < deps.openGraceMs) {
        await sleep(20);
        continue;
      }
      const opened = await start(deps, input, key, (s) => deps.slots.replace(key, s, slot.revision), traceparent);
      if (opened) return opened;
      continue;
    }
    if (isExpiryDue(state, deps.clock())) {
      const h = await deps.repo.handle(state.request.approvalId, () => ({ type: 'ExpireApproval', now: deps.clock() }), { traceparent });
      if (h.state.exists) await deps.settled(h.state);
      continue;
    }
    if (state.status === 'pending' || state.status === 'granted') {
      return { approvalId: state.request.approvalId, status: state.status, expiresAt: new Date(deadlineOf(state)!).toISOString() };
    }
    await deps.settled(state);
    const opened = await start(deps, input, key, (s) => deps.slots.replace(key, s, slot.revision), traceparent);
    if (opened) return opened;
  }
}

/** Takes the slot with `bind`, stores `ApprovalRequested`; null when the slot race was lost. */
async function start(
  deps: OpenDeps,
  input: OpenInput,
  key: string,
  bind: (slot: ReturnType<typeof slotFor>) => Promise<number>,
  traceparent: string | undefined,
): Promise<ApprovalOpenReply | null> {
  const now = deps.clock();
  const data = approvalRequestedData(input, now);
  let revision: number;
  try {
    revision = await bind(slotFor(data, now));
  } catch (err) {
    if (isTameFlareError(err, 'TF_ERR_KV_CONFLICT')) return null;
    throw err;
  }
  let h;
  try {
    h = await deps.repo.handle(data.approvalId, () => ({ type: 'RequestApproval', data, now }), {
      causationId: input.decided.id,
      traceparent,
      fresh: true,
    });
  } catch (err) {
    await deps.slots.drop(key, revision);
    throw err;
  }
  if (!h.decision.ok || !h.state.exists) {
    await deps.slots.drop(key, revision);
    throw h.decision.ok ? approvalError(ApprovalErrorCode.Invalid, 'approval was not opened') : h.decision.error;
  }
  // A replica that judged our slot abandoned may have rebound it meanwhile: step aside and join its approval.
  const now2 = await deps.slots.get(key);
  if (!now2 || now2.malformed || now2.value.approvalId !== data.approvalId) {
    const c = await deps.repo.handle(data.approvalId, () => ({ type: 'CancelApproval', data: { reason: 'superseded by a concurrent approval for the same request' }, now: deps.clock() }));
    if (c.state.exists) await deps.settled(c.state);
    return null;
  }
  await deps.afterOpen(h.state);
  return { approvalId: data.approvalId, status: 'pending', expiresAt: data.expiresAt };
}
