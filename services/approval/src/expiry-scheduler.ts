import { ApprovalErrorCode, deadlineOf, type OpenedApproval } from '@tameflare/approvals';
import { isTameFlareError } from '@tameflare/contracts';
import type { ApprovalRepository } from './repository.ts';
import type { Clock, Logger } from './types.ts';

export interface ExpirySchedulerDeps {
  repo: ApprovalRepository;
  clock: Clock;
  log: Logger;
  settled: (s: OpenedApproval) => Promise<void>;
  /**
   * A slot whose approval was never stored (its opener died): release it once the grace is over.
   * Returns when to look again if it is too early to tell, else null.
   */
  abandoned: (approvalId: string) => Promise<number | null>;
  /** Delay before retrying when the store is unavailable (ms). */
  retryMs?: number;
}

export interface ExpiryScheduler {
  /** Arms (or re-arms) the timer of an approval for `atMs`. */
  schedule(approvalId: string, atMs: number): void;
  cancel(approvalId: string): void;
  /** Timers armed right now. */
  readonly size: number;
  stop(): Promise<void>;
}

// setTimeout fires at once beyond 2^31-1 ms; longer deadlines are reached in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Records `ApprovalExpired` when a deadline passes. Every replica arms a timer for every live
 * approval (from the slot bucket it watches, which a restarted replica reads again at start), so
 * an expiry survives the restart of any one of them; when several fire, the expected version on
 * the append lets exactly one `ApprovalExpired` through and the others find nothing left to do.
 */
export function createExpiryScheduler(deps: ExpirySchedulerDeps): ExpiryScheduler {
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const arm = (approvalId: string, atMs: number) => {
    const old = timers.get(approvalId);
    if (old) clearTimeout(old);
    if (stopped) return;
    const delay = Math.min(Math.max(0, atMs - deps.clock().getTime()), MAX_TIMER_MS);
    const t = setTimeout(() => {
      timers.delete(approvalId);
      const p = fire(approvalId, atMs).finally(() => running.delete(p));
      running.add(p);
    }, delay);
    t.unref();
    timers.set(approvalId, t);
  };

  const fire = async (approvalId: string, atMs: number) => {
    if (deps.clock().getTime() < atMs) return arm(approvalId, atMs);
    try {
      const h = await deps.repo.handle(approvalId, () => ({ type: 'ExpireApproval', now: deps.clock() }));
      if (!h.state.exists) {
        const again = await deps.abandoned(approvalId);
        if (again !== null) arm(approvalId, again);
        return;
      }
      if (h.decision.ok) deps.log.info({ approvalId }, 'approval expired');
      else if (!isTameFlareError(h.decision.error, ApprovalErrorCode.NotDue)) deps.log.warn({ approvalId, err: h.decision.error }, 'expiry refused');
      const next = deadlineOf(h.state);
      if (next !== null) arm(approvalId, next);
      else await deps.settled(h.state);
    } catch (err) {
      if (stopped) return;
      deps.log.warn({ err, approvalId }, 'could not expire an approval; retrying');
      arm(approvalId, deps.clock().getTime() + (deps.retryMs ?? 1000));
    }
  };

  return {
    schedule: arm,
    cancel(approvalId) {
      const t = timers.get(approvalId);
      if (t) clearTimeout(t);
      timers.delete(approvalId);
    },
    get size() {
      return timers.size;
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}
