import { createEvent, eventCatalog, isTameFlareError, type TameFlareEvent } from '@tameflare/contracts';
import type { EventStore, StreamVersion } from '@tameflare/event-store';
import {
  ApprovalErrorCode,
  approvalError,
  decide,
  fold,
  initialState,
  isApprovalEvent,
  type ApprovalCommand,
  type ApprovalEvent,
  type ApprovalState,
  type Decision,
} from '@tameflare/approvals';

/** The event-store stream of one approval, as the catalog names it. */
export function approvalStream(approvalId: string): string {
  return (eventCatalog.ApprovalRequested.stream as (d: { approvalId: string }) => string)({ approvalId });
}

export interface LoadedApproval {
  state: ApprovalState;
  version: StreamVersion;
  /** The recorded events, oldest first (for ids: the `ApprovalConsumed` id authorises a release). */
  events: TameFlareEvent[];
}

/** What running a command did: the decision, the state after it, and the envelopes appended. */
export interface Handled {
  decision: Decision;
  before: ApprovalState;
  state: ApprovalState;
  appended: TameFlareEvent[];
  recorded: TameFlareEvent[];
}

export interface CommandContext {
  /** The event or command that caused this one (`causationId`). */
  causationId?: string | null;
  traceparent?: string | undefined;
  /** The stream is known not to exist yet (a fresh approval id): skip the first read. */
  fresh?: boolean;
}

export interface ApprovalRepository {
  load(approvalId: string): Promise<LoadedApproval>;
  /**
   * Loads the approval, asks `decide`, and appends what it yields with the stream version it
   * was decided on. When another writer got there first, it reloads and decides again, so of two
   * replicas racing to claim, vote or expire, only one outcome is ever recorded.
   */
  handle(approvalId: string, command: (state: ApprovalState) => ApprovalCommand, ctx?: CommandContext): Promise<Handled>;
}

const MAX_ATTEMPTS = 8;

export interface RepositoryOptions {
  source: string;
  /**
   * Publishes what was appended to TF_EVENTS at once, so an ingress holding a request hears of
   * the grant without waiting for the recorder's relay. Best effort: the event store is the
   * record and the relay delivers anyway (same event id, so JetStream keeps one copy within its
   * duplicate window).
   */
  publish?: (events: TameFlareEvent[]) => Promise<void>;
}

export function createApprovalRepository(store: EventStore, options: RepositoryOptions): ApprovalRepository {
  const load = async (approvalId: string): Promise<LoadedApproval> => {
    const r = await store.readStream(approvalStream(approvalId));
    const events = r.events.map((e) => e.event);
    return { state: fold(events.filter(isApprovalEvent) as ApprovalEvent[]), version: r.version, events };
  };

  const envelopes = (events: ApprovalEvent[], state: ApprovalState, ctx: CommandContext): TameFlareEvent[] =>
    events.map((e) => {
      const actionId = state.exists ? state.request.actionId : (e.data as { actionId: string }).actionId;
      return createEvent(e.type, e.data as never, {
        time: new Date(e.time),
        correlationId: actionId,
        causationId: ctx.causationId ?? null,
        traceparent: ctx.traceparent ?? null,
        source: options.source,
      }) as TameFlareEvent;
    });

  return {
    load,
    async handle(approvalId, command, ctx = {}) {
      for (let attempt = 1; ; attempt++) {
        const loaded: LoadedApproval = attempt === 1 && ctx.fresh ? { state: initialState, version: 'no_stream', events: [] } : await load(approvalId);
        const decision = decide(command(loaded.state), loaded.state);
        if (decision.events.length === 0) {
          return { decision, before: loaded.state, state: loaded.state, appended: [], recorded: loaded.events };
        }
        const appended = envelopes(decision.events, loaded.state, ctx);
        try {
          await store.append(approvalStream(approvalId), appended, { expectedVersion: loaded.version });
        } catch (err) {
          if (isTameFlareError(err, 'TF_ERR_STORE_WRONG_VERSION') && attempt < MAX_ATTEMPTS) continue;
          if (isTameFlareError(err, 'TF_ERR_STORE_WRONG_VERSION')) {
            throw approvalError(ApprovalErrorCode.Conflict, `approval ${approvalId} kept changing; try again`, { cause: err, details: { approvalId } });
          }
          if (isTameFlareError(err, 'TF_ERR_STORE_UNAVAILABLE')) {
            throw approvalError(ApprovalErrorCode.Unavailable, 'the event store is unavailable', { cause: err, details: { approvalId } });
          }
          throw err;
        }
        if (options.publish) await options.publish(appended);
        return {
          decision,
          before: loaded.state,
          state: fold(decision.events, loaded.state),
          appended,
          recorded: [...loaded.events, ...appended],
        };
      }
    },
  };
}
