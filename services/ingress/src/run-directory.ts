import { decoder, Buckets, RunEntrySchema, sha256Hex, type RunEntry } from '@tameflare/contracts';
import type { Bus, KvWatch } from '@tameflare/messaging';
import type { Identity } from '@tameflare/proxy';

const decodeRun = decoder(RunEntrySchema, 'a tf_runs entry');

/** Finds the agent run a proxy token belongs to. */
export interface RunDirectory {
  /** The run for `token`, or null (ended or never started). Rejects only when NATS cannot answer. */
  lookup(token: string): Identity | null | Promise<Identity | null>;
  stop(): Promise<void>;
}

const toIdentity = (r: RunEntry): Identity => ({ runId: r.runId, agentId: r.agentId, agentName: r.agentName, gatewayId: r.gatewayId });

/**
 * Keeps KV `tf_runs` (key: SHA-256 of the token) in memory through a watch, so an ended run is
 * refused at once; a token the watch has not seen yet costs one KV get. Tokens themselves are
 * never stored or logged, only their digests.
 */
export async function startRunDirectory(bus: Bus, options: { onInvalid?: (key: string, err: unknown) => void } = {}): Promise<RunDirectory> {
  const identities = new Map<string, Identity>();
  const watch: KvWatch<RunEntry> = await bus.watchKv<RunEntry>(Buckets.runs, {
    decode: (v) => decodeRun(v),
    onInvalid: (err, key) => options.onInvalid?.(key, err),
    onChange: (c) => {
      if (c.op === 'put') identities.set(c.key, toIdentity(c.value));
      else identities.delete(c.key);
    },
  });
  await watch.ready;
  const kv = await bus.kv(Buckets.runs);
  return {
    lookup(token) {
      const key = sha256Hex(token);
      const hit = identities.get(key);
      if (hit) return hit;
      return kv.get<unknown>(key).then((e) => {
        if (!e) return null;
        const id = toIdentity(decodeRun(e.value));
        // The watch is authoritative: only cache what it has not deleted meanwhile.
        if (watch.revision <= e.revision) identities.set(key, id);
        return id;
      });
    },
    stop: () => watch.stop(),
  };
}
