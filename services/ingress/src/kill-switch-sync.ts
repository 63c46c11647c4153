import { decoder, Buckets, ControlSubjects, KillSwitchEntrySchema, killSwitchScopeKey, type KillSwitchAck, type KillSwitchEntry } from '@tameflare/contracts';
import type { Bus, KvWatch } from '@tameflare/messaging';
import { createKillSwitchState, type KillSwitchState } from '@tameflare/proxy';

const decodeEntry = decoder(KillSwitchEntrySchema, 'a tf_killswitch entry');

export interface KillSwitchSync {
  readonly state: KillSwitchState;
  /** Connects the proxy whose in-flight work is cut; changes before this only update the state. */
  attach(enforce: () => number): void;
  stop(): Promise<void>;
}

/**
 * Mirrors KV `tf_killswitch` into the proxy's kill-switch state. Each change is applied at once:
 * the state is updated (new requests in scope get 403), in-flight requests, tunnels and
 * WebSockets in scope are cut, and the change is acknowledged on `tf.ctl.killswitch.ack` with
 * this ingress's id, when it was applied and how many connections were cut.
 */
export async function startKillSwitchSync(
  bus: Bus,
  options: { ingressId: string; log: { info(o: object, m: string): void; warn(o: object, m: string): void } },
): Promise<KillSwitchSync> {
  const state = createKillSwitchState();
  let enforce: (() => number) | null = null;
  const ack = (entry: KillSwitchEntry, kind: 'engaged' | 'released', cut: number) => {
    const payload: KillSwitchAck = {
      killSwitchId: entry.killSwitchId,
      state: kind,
      ingressId: options.ingressId,
      appliedAt: new Date().toISOString(),
      cutConnections: cut,
    };
    try {
      bus.publish(ControlSubjects.killSwitchAck, payload);
    } catch (err) {
      options.log.warn({ err, killSwitchId: entry.killSwitchId }, 'kill-switch acknowledgement not sent');
    }
  };
  const poisoned = new Set<string>();
  const watch: KvWatch<KillSwitchEntry> = await bus.watchKv<KillSwitchEntry>(Buckets.killSwitch, {
    decode: (v) => decodeEntry(v),
    // A malformed overwrite must not read as a release: the switch it replaced stays engaged.
    onInvalid: (err, key) => {
      options.log.warn({ err, key }, 'malformed kill-switch entry ignored; any switch engaged under this key stays engaged');
      poisoned.add(key);
    },
    onChange: (c) => {
      if (c.op === 'put') {
        poisoned.delete(c.key);
        state.set(c.value);
        const cut = enforce?.() ?? 0;
        options.log.info({ killSwitchId: c.value.killSwitchId, scope: killSwitchScopeKey(c.value.scope), cut }, 'kill switch engaged');
        ack(c.value, 'engaged', cut);
      } else {
        if (poisoned.delete(c.key)) return;
        const released = state.delete(c.key);
        if (released) {
          options.log.info({ killSwitchId: released.killSwitchId, scope: c.key }, 'kill switch released');
          ack(released, 'released', 0);
        }
      }
    },
  });
  await watch.ready;
  return {
    state,
    attach(fn) {
      enforce = fn;
      fn();
    },
    stop: () => watch.stop(),
  };
}
