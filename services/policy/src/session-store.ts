import { Buckets } from '@tameflare/contracts';
import { isMessagingError, MessagingErrorCode, type Bus, type KvBucket } from '@tameflare/messaging';
import { decodeSessionState, sessionKey, sessionStateOf, type SessionEntry } from '@tameflare/policy-engine';

/** One agent's session state as read, with the KV revision a write must match. */
export interface SessionRead {
  entries: SessionEntry[];
  /** null when the key does not exist yet. */
  revision: number | null;
}

/**
 * Session state in KV `tf_sessions`, one key per agent and gateway. Writes are
 * compare-and-set on the revision that was read, so of two replicas deciding from the same
 * state only one can record its allow; the other re-reads and decides again.
 */
export interface SessionStore {
  /** @throws Error when the stored value is not a session state. */
  read(gatewayId: string, agentId: string): Promise<SessionRead>;
  /** Writes if the key is still at `revision`; false when another replica wrote first. */
  write(gatewayId: string, agentId: string, entries: readonly SessionEntry[], revision: number | null): Promise<boolean>;
}

export function createKvSessionStore(bus: Bus): SessionStore {
  let bucket: Promise<KvBucket> | undefined;
  const kv = () => {
    bucket ??= bus.kv(Buckets.sessions);
    bucket.catch(() => (bucket = undefined));
    return bucket;
  };
  return {
    async read(gatewayId, agentId) {
      const got = await (await kv()).get<unknown>(sessionKey(gatewayId, agentId));
      if (!got) return { entries: [], revision: null };
      return { entries: decodeSessionState(got.value), revision: got.revision };
    },
    async write(gatewayId, agentId, entries, revision) {
      const b = await kv();
      const key = sessionKey(gatewayId, agentId);
      try {
        if (revision === null) await b.create(key, sessionStateOf(entries));
        else await b.update(key, sessionStateOf(entries), revision);
        return true;
      } catch (err) {
        if (isMessagingError(err, MessagingErrorCode.KvConflict)) return false;
        throw err;
      }
    },
  };
}
