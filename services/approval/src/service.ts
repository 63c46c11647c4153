import { Buckets, Commands, type KillSwitchEntry } from '@tameflare/contracts';
import { isExpiryDue, type OpenedApproval } from '@tameflare/approvals';
import type { EventStore } from '@tameflare/event-store';
import type { Bus, ConsumerHandle, KvWatch } from '@tameflare/messaging';
import { approvalStatus } from './approval-status.ts';
import { claimApproval } from './claim-approval.ts';
import { createExpiryScheduler } from './expiry-scheduler.ts';
import { denyByKillSwitch, sweepKillSwitch, targetOf } from './kill-switch.ts';
import { killSwitchCovers } from './kill-switch-scope.ts';
import { openApproval } from './open-approval.ts';
import { decodeClaim, decodeKillSwitch, decodeOpen, decodeStatus, decodeVote } from './payloads.ts';
import { createApprovalRepository, type ApprovalRepository } from './repository.ts';
import { createSlotStore } from './slot-store.ts';
import { decodeSlot, type ApprovalSlot } from './slots.ts';
import type { Clock, Logger } from './types.ts';
import { voteApproval } from './vote-approval.ts';
import type { WebhookVoter } from './webhook/callback.ts';
import { startNotifier } from './webhook/notifier.ts';
import type { ApprovalVoteRequest, ApprovalStatusReply } from '@tameflare/contracts';

export interface ApprovalServiceOptions {
  /** `approval@<instance>`: the `source` of every event this replica writes. */
  source: string;
  /** Grace before a slot whose approval was never stored counts as abandoned (ms). */
  openGraceMs: number;
  /** How long a claim waits for the vault (ms). */
  vaultTimeoutMs: number;
  webhook: {
    url: string | null;
    dashboardUrl: string | null;
    timeoutMs: number;
    maxAttempts: number;
    signingSecret: string | null;
    voters: Readonly<Record<string, WebhookVoter>>;
  };
}

export interface ApprovalServiceDeps {
  bus: Bus;
  store: EventStore;
  log: Logger;
  options: ApprovalServiceOptions;
  clock?: Clock;
}

export interface ApprovalService {
  readonly repo: ApprovalRepository;
  /** Records a vote, as `tf.cmd.approval.vote` does (used by the webhook callback). */
  vote(v: ApprovalVoteRequest): Promise<ApprovalStatusReply>;
  /** Live approvals this replica tracks (pending, or granted and unclaimed). */
  liveApprovals(): number;
  /** Stops timers, watches, responders and the notifier; in-flight commands finish. */
  stop(): Promise<void>;
}

/**
 * Starts one approval-service replica on a connected bus and event store: the four command
 * responders (queue group `approval`), the slot index watch with its expiry timers, the
 * kill-switch watch and, when a webhook URL is configured, the notifier.
 */
export async function startApprovalService(deps: ApprovalServiceDeps): Promise<ApprovalService> {
  const { bus, log, options } = deps;
  const clock = deps.clock ?? (() => new Date());
  const repo = createApprovalRepository(deps.store, {
    source: options.source,
    publish: async (events) => {
      try {
        await bus.publishEvents(events);
      } catch (err) {
        log.warn({ err, events: events.map((e) => e.id) }, 'approval events not published at once; the recorder relays them');
      }
    },
  });
  const slots = await createSlotStore(bus.kv(Buckets.approvalSlots), log);

  const slotByKey = new Map<string, ApprovalSlot>();
  const settled = (s: OpenedApproval) => slots.release(s);
  const scheduler = createExpiryScheduler({
    repo,
    clock,
    log,
    settled,
    abandoned: async (approvalId) => {
      for (const [key, slot] of slotByKey) {
        if (slot.approvalId !== approvalId) continue;
        const graceEnds = Date.parse(slot.createdAt) + options.openGraceMs;
        if (clock().getTime() < graceEnds) return graceEnds;
        const cur = await slots.get(key);
        if (cur && !cur.malformed && cur.value.approvalId === approvalId) await slots.drop(key, cur.revision);
      }
      return null;
    },
  });

  const slotWatch: KvWatch<ApprovalSlot> = await bus.watchKv(Buckets.approvalSlots, {
    decode: (v) => decodeSlot(v),
    onInvalid: (err, key) => log.warn({ err, key }, 'malformed approval slot ignored'),
    onChange: (c) => {
      const before = slotByKey.get(c.key);
      if (c.op === 'put') {
        if (before && before.approvalId !== c.value.approvalId) scheduler.cancel(before.approvalId);
        slotByKey.set(c.key, c.value);
        scheduler.schedule(c.value.approvalId, Date.parse(c.value.expiresAt));
      } else {
        slotByKey.delete(c.key);
        if (before) scheduler.cancel(before.approvalId);
      }
    },
  });
  await slotWatch.ready;

  const killDeps = { repo, clock, log, settled };
  const sweeping = new Set<Promise<void>>();
  let stopping = false;
  const sweep = (ks: KillSwitchEntry) => {
    const p = (async () => {
      for (let attempt = 1; !stopping; attempt++) {
        try {
          const n = await sweepKillSwitch(killDeps, ks, slotByKey.values());
          if (n > 0) log.info({ killSwitchId: ks.killSwitchId, denied: n }, 'kill switch denied pending approvals');
          return;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        }
      }
    })().finally(() => sweeping.delete(p));
    sweeping.add(p);
  };
  const killWatch: KvWatch<KillSwitchEntry> = await bus.watchKv(Buckets.killSwitch, {
    decode: (v) => decodeKillSwitch(v),
    onInvalid: (err, key) => log.warn({ err, key }, 'malformed kill switch entry ignored'),
    onChange: (c) => {
      if (c.op === 'put') sweep(c.value);
    },
  });
  await killWatch.ready;

  const afterOpen = async (s: OpenedApproval) => {
    for (const ks of killWatch.values.values()) {
      if (killSwitchCovers(ks.scope, targetOf(s))) {
        await denyByKillSwitch(killDeps, s.request.approvalId, ks);
        return;
      }
    }
  };

  const vote = (v: ApprovalVoteRequest) => voteApproval({ repo, clock, settled }, v);
  const listeners = await Promise.all([
    bus.serve({ ...Commands.approvalOpen, decode: decodeOpen }, (p, ctx) =>
      openApproval({ repo, slots, clock, openGraceMs: options.openGraceMs, afterOpen, settled }, p, ctx.traceparent),
    ),
    bus.serve({ ...Commands.approvalStatus, decode: decodeStatus }, (p) => approvalStatus({ repo, clock }, p.approvalId)),
    bus.serve({ ...Commands.approvalClaim, decode: decodeClaim }, (p, ctx) =>
      claimApproval({ repo, bus, clock, settled, vaultTimeoutMs: options.vaultTimeoutMs }, p, ctx.traceparent),
    ),
    bus.serve({ ...Commands.approvalVote, decode: decodeVote }, (p, ctx) => voteApproval({ repo, clock, settled }, p, ctx.traceparent)),
  ]);

  let notifier: ConsumerHandle | undefined;
  if (options.webhook.url) {
    notifier = await startNotifier(
      bus,
      { url: options.webhook.url, dashboardUrl: options.webhook.dashboardUrl ?? undefined, timeoutMs: options.webhook.timeoutMs, maxAttempts: options.webhook.maxAttempts },
      log,
      async (approvalId) => {
        const { state } = await repo.load(approvalId);
        return state.exists && state.status === 'pending' && !isExpiryDue(state, clock());
      },
    );
  }

  return {
    repo,
    vote,
    liveApprovals: () => slotByKey.size,
    async stop() {
      stopping = true;
      await Promise.all(listeners.map((l) => l.stop()));
      await notifier?.stop();
      await killWatch.stop();
      await slotWatch.stop();
      await scheduler.stop();
      await Promise.allSettled([...sweeping]);
    },
  };
}
