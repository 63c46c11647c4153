import { killSwitchScopeKey, type KillSwitchEntry } from '@tameflare/contracts';

/** What a request or connection belongs to, for matching kill-switch scopes. */
export interface KillSwitchSubject {
  gatewayId: string;
  agentId: string;
  /** Null when the destination is not a known connector. */
  connector: string | null;
}

/** The engaged kill switches this process knows about (a local copy of KV `tf_killswitch`). */
export interface KillSwitchState {
  /** Engages (or replaces) the switch stored under its scope key. */
  set(entry: KillSwitchEntry): void;
  /** Releases the switch stored under `scopeKey`; returns it, or null when none was engaged. */
  delete(scopeKey: string): KillSwitchEntry | null;
  /** The engaged switch that covers `subject` (all, then gateway, agent, connector), or null. */
  match(subject: KillSwitchSubject): KillSwitchEntry | null;
  entries(): KillSwitchEntry[];
  readonly size: number;
}

/** Creates an empty kill-switch state. Matching is a few map lookups and free when nothing is engaged. */
export function createKillSwitchState(): KillSwitchState {
  const byKey = new Map<string, KillSwitchEntry>();
  return {
    set(entry) {
      byKey.set(killSwitchScopeKey(entry.scope), entry);
    },
    delete(scopeKey) {
      const e = byKey.get(scopeKey) ?? null;
      byKey.delete(scopeKey);
      return e;
    },
    match(s) {
      if (byKey.size === 0) return null;
      return (
        byKey.get('all') ??
        byKey.get(`gateway.${s.gatewayId}`) ??
        byKey.get(`agent.${s.agentId}`) ??
        (s.connector === null ? undefined : byKey.get(`connector.${s.connector}`)) ??
        null
      );
    },
    entries: () => [...byKey.values()],
    get size() {
      return byKey.size;
    },
  };
}
