import { ControlSubjects, type KillSwitchAck } from '@tameflare/contracts';
import type { Bus, Listener } from '@tameflare/messaging';
import type { Logger } from './deps.ts';
import { decodeKillSwitchAck } from './payloads.ts';

/** One replica's confirmation, timed from the moment the command arrived. */
export interface TimedAck {
  ingressId: string;
  latencyMs: number;
  cutConnections: number;
  appliedAt: string;
}

/** Acknowledgements for one engage or release. */
export interface AckWait {
  /** Resolves with the acks received when every expected replica answered, or at the deadline. */
  readonly done: Promise<TimedAck[]>;
  /** Stops listening for this change (late acks after this are only logged). */
  close(): void;
}

export interface AckCollector {
  /**
   * Starts collecting before the change is applied. `onLate` receives acks that arrive after
   * `done` resolved, until `lateWindowMs` has passed.
   */
  expect(options: {
    killSwitchId: string;
    state: 'engaged' | 'released';
    expected: readonly string[];
    startedAt: number;
    timeoutMs: number;
    lateWindowMs: number;
    onLate(ack: TimedAck): void;
  }): AckWait;
  stop(): Promise<void>;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Listens on `tf.ctl.killswitch.ack` (core NATS) and routes each ack to the engage or release
 * waiting for it. Latency is measured on this process's monotonic clock, from when the command
 * arrived to when the ack did: an upper bound of when the replica started refusing.
 */
export async function startAckCollector(bus: Bus, log: Logger): Promise<AckCollector> {
  const waiting = new Map<string, (ack: KillSwitchAck, at: number) => void>();
  const listener: Listener = await bus.subscribe(ControlSubjects.killSwitchAck, (payload: unknown) => {
    const at = performance.now();
    let ack: KillSwitchAck;
    try {
      ack = decodeKillSwitchAck(payload);
    } catch (err) {
      log.warn({ err }, 'ignored a malformed kill switch acknowledgement');
      return;
    }
    const route = waiting.get(`${ack.killSwitchId}/${ack.state}`);
    if (route) route(ack, at);
    else log.warn({ killSwitchId: ack.killSwitchId, state: ack.state, ingressId: ack.ingressId }, 'kill switch acknowledgement for no pending change');
  });
  return {
    expect(o) {
      const key = `${o.killSwitchId}/${o.state}`;
      const acks = new Map<string, TimedAck>();
      const expected = new Set(o.expected);
      let settled = false;
      let resolve!: (acks: TimedAck[]) => void;
      const done = new Promise<TimedAck[]>((r) => (resolve = r));
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve([...acks.values()]);
        lateTimer = setTimeout(close, o.lateWindowMs);
        lateTimer.unref();
      };
      const close = () => {
        clearTimeout(deadline);
        if (lateTimer) clearTimeout(lateTimer);
        if (waiting.get(key) === route) waiting.delete(key);
        if (!settled) {
          settled = true;
          resolve([...acks.values()]);
        }
      };
      const route = (ack: KillSwitchAck, at: number) => {
        if (acks.has(ack.ingressId)) return;
        const timed: TimedAck = { ingressId: ack.ingressId, latencyMs: round(Math.max(0, at - o.startedAt)), cutConnections: ack.cutConnections, appliedAt: ack.appliedAt };
        acks.set(ack.ingressId, timed);
        if (settled) {
          o.onLate(timed);
          return;
        }
        if ([...expected].every((id) => acks.has(id))) finish();
      };
      let lateTimer: NodeJS.Timeout | undefined;
      const deadline = setTimeout(finish, expected.size === 0 ? 0 : o.timeoutMs);
      waiting.set(key, route);
      return { done, close };
    },
    stop: () => listener.stop(),
  };
}
