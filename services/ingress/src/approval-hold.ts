import type { KeyObject } from 'node:crypto';
import {
  decoder,
  ApprovalClaimReplySchema,
  ApprovalStatusReplySchema,
  Commands,
  EventSubjects,
  isTameFlareError,
  validateEvent,
  type ApprovalClaimRequest,
  type IngressKey,
} from '@tameflare/contracts';
import type { Bus, Listener } from '@tameflare/messaging';
import type { ApprovalHold, ApprovalResult, ApprovalWaitInput } from '@tameflare/proxy';
import { unseal } from './decision-client.ts';

const decodeStatus = decoder(ApprovalStatusReplySchema, 'the approval status reply');
const decodeClaim = decoder(ApprovalClaimReplySchema, 'the approval claim reply');

type Outcome = { kind: 'granted' } | { kind: 'denied'; reason: string; deniedBy: string | null } | { kind: 'expired' };

export interface NatsApprovalHold extends ApprovalHold {
  /** Requests held right now. */
  readonly holding: number;
  stop(): Promise<void>;
}

/**
 * Holds a request that requires approval: follows the approval through its events on core NATS
 * (`tf.evt.approval.>`, the fast path) and by polling `tf.cmd.approval.status` (in case an event
 * was missed), then claims a grant with `tf.cmd.approval.claim`, which consumes the approval
 * exactly once and returns the credential sealed to this ingress.
 */
export async function startApprovalHold(
  bus: Bus,
  options: { ingress: IngressKey; privateKey: KeyObject; pollMs: number; requestTimeoutMs: number; log: { warn(o: object, m: string): void } },
): Promise<NatsApprovalHold> {
  const waiters = new Map<string, Set<(o: Outcome) => void>>();
  const notify = (approvalId: string, o: Outcome) => {
    for (const w of waiters.get(approvalId) ?? []) w(o);
  };
  const listener: Listener = await bus.subscribe(EventSubjects.approvals, (payload: unknown) => {
    let e;
    try {
      e = validateEvent(payload);
    } catch {
      return;
    }
    const id = (e.data as { approvalId?: string }).approvalId;
    if (!id || !waiters.has(id)) return;
    if (e.type === 'ApprovalGranted') notify(id, { kind: 'granted' });
    else if (e.type === 'ApprovalDenied') notify(id, { kind: 'denied', reason: e.data.reason, deniedBy: e.data.deniedBy });
    else if (e.type === 'ApprovalExpired') notify(id, { kind: 'expired' });
    else if (e.type === 'ApprovalCancelled') notify(id, { kind: 'denied', reason: `cancelled: ${e.data.reason}`, deniedBy: null });
  });

  const status = async (approvalId: string): Promise<Outcome | null> => {
    const s = decodeStatus(await bus.request(Commands.approvalStatus, { approvalId }, { timeoutMs: options.requestTimeoutMs }));
    switch (s.status) {
      case 'pending':
        return null;
      case 'granted':
        return { kind: 'granted' };
      case 'denied':
        return { kind: 'denied', reason: s.reason ?? 'denied', deniedBy: s.deniedBy };
      case 'expired':
        return { kind: 'expired' };
      case 'cancelled':
        return { kind: 'denied', reason: `cancelled${s.reason ? `: ${s.reason}` : ''}`, deniedBy: null };
      case 'consumed':
        return { kind: 'granted' };
    }
  };

  const claim = async (input: ApprovalWaitInput): Promise<ApprovalResult> => {
    const r = input.requested.data;
    const req: ApprovalClaimRequest = {
      approvalId: input.approval.approvalId,
      actionId: r.actionId,
      runId: r.runId,
      requestDigest: r.requestDigest,
      ingress: options.ingress,
    };
    try {
      const reply = decodeClaim(await bus.request(Commands.approvalClaim, req, { timeoutMs: options.requestTimeoutMs }));
      return {
        status: 'granted',
        credential: reply.credential ? unseal(reply.credential, options.privateKey, { actionId: r.actionId, ingressId: options.ingress.id }) : null,
      };
    } catch (err) {
      if (isTameFlareError(err, 'TF_ERR_APPROVAL_ALREADY_CONSUMED')) {
        return { status: 'denied', reason: 'the approval was already used by another request', deniedBy: null };
      }
      if (isTameFlareError(err, 'TF_ERR_APPROVAL_DIGEST_MISMATCH')) {
        return { status: 'denied', reason: 'the approval was given for a different request', deniedBy: null };
      }
      if (isTameFlareError(err, 'TF_ERR_APPROVAL_EXPIRED')) return { status: 'expired' };
      throw err;
    }
  };

  return {
    get holding() {
      let n = 0;
      for (const s of waiters.values()) n += s.size;
      return n;
    },
    async wait(input) {
      const id = input.approval.approvalId;
      if (input.approval.status === 'granted') return claim(input);
      const outcome = await new Promise<Outcome>((resolve, reject) => {
        let set = waiters.get(id);
        if (!set) waiters.set(id, (set = new Set()));
        let timer: NodeJS.Timeout | undefined;
        const finish = (o: Outcome | null, err?: unknown) => {
          set!.delete(onEvent);
          if (set!.size === 0) waiters.delete(id);
          clearTimeout(timer);
          input.signal.removeEventListener('abort', onAbort);
          if (err !== undefined) reject(err);
          else resolve(o!);
        };
        const onEvent = (o: Outcome) => finish(o);
        const onAbort = () => finish(null, input.signal.reason ?? new Error('the hold was abandoned'));
        set.add(onEvent);
        input.signal.addEventListener('abort', onAbort, { once: true });
        const poll = () => {
          timer = setTimeout(() => {
            status(id).then(
              (o) => {
                if (!set!.has(onEvent)) return;
                if (o) finish(o);
                else poll();
              },
              (err: unknown) => {
                // A missed poll is not a decision; the next one (or an event) will tell.
                options.log.warn({ err, approvalId: id }, 'approval status poll failed');
                if (set!.has(onEvent)) poll();
              },
            );
          }, options.pollMs);
        };
        // The approval may have been decided before this hold subscribed: ask once right away.
        status(id).then(
          (o) => {
            if (!set!.has(onEvent)) return;
            if (o) finish(o);
            else poll();
          },
          () => set!.has(onEvent) && poll(),
        );
      });
      if (outcome.kind === 'granted') return claim(input);
      if (outcome.kind === 'denied') return { status: 'denied', reason: outcome.reason, deniedBy: outcome.deniedBy };
      return { status: 'expired' };
    },
    stop: () => listener.stop(),
  };
}
