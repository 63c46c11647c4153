import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { toMessagingError } from './errors.ts';
import type { BusCore, BusEvent } from './types.ts';

/** A change applied to a watched bucket, in order. */
export type KvChange<T> = { op: 'put'; key: string; value: T; revision: number } | { op: 'delete'; key: string; revision: number };

export interface WatchKvOptions<T> {
  /** Key filter with NATS wildcards (default `>`: every key). */
  key?: string;
  /**
   * Validates and types a value. When it throws, the key is treated as absent (and reported to
   * `onInvalid`), so a malformed entry never passes for a valid one.
   */
  decode?: (value: unknown, key: string) => T;
  /** Called after each change is applied to the snapshot (initial values included). */
  onChange?: (change: KvChange<T>) => void;
  onInvalid?: (err: unknown, key: string) => void;
  /**
   * Drop entries older than this (ms since their last put). A bucket TTL (`tf_instances`) ages
   * entries out on the server without telling watchers, so a watcher of such a bucket sets this
   * to the bucket's TTL to see expiries as deletes.
   */
  expireAfterMs?: number;
}

/** A local, always-current copy of (part of) a KV bucket. */
export interface KvWatch<T> {
  /** Resolves once the values present at start are loaded. */
  readonly ready: Promise<void>;
  /** The live snapshot: key → value. Read-only; updated in place. */
  readonly values: ReadonlyMap<string, T>;
  get(key: string): T | undefined;
  has(key: string): boolean;
  readonly size: number;
  /** Highest revision applied. */
  readonly revision: number;
  /** Reloads after a reconnect; counts how many times. */
  readonly reloads: number;
  stop(): Promise<void>;
}

/**
 * Watches a KV bucket: loads the current values, then applies puts and deletes in order. After a
 * reconnect (or if the server-side watcher is lost) it reloads the bucket and reconciles the
 * snapshot, removing keys that disappeared meanwhile.
 */
export async function watchKv<T = unknown>(
  core: BusCore,
  bucket: string,
  open: () => Promise<KV>,
  onBusEvent: (l: (e: BusEvent) => void) => () => void,
  options: WatchKvOptions<T> = {},
): Promise<KvWatch<T>> {
  const filter = options.key ?? '>';
  const values = new Map<string, T>();
  const revisions = new Map<string, number>();
  const putAt = new Map<string, number>();
  let maxRevision = 0;
  let reloads = 0;
  let stopped = false;
  let generation = 0;
  let iter: QueuedIterator<KvWatchEntry> | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  let kv: KV;
  try {
    kv = await open();
  } catch (err) {
    throw toMessagingError(err, 'watchKv', bucket);
  }

  const apply = (e: KvWatchEntry) => {
    const known = revisions.get(e.key);
    if (known !== undefined && e.revision <= known) return;
    revisions.set(e.key, e.revision);
    if (e.revision > maxRevision) maxRevision = e.revision;
    if (e.operation === 'PUT') {
      let value: T;
      try {
        const raw = e.json<unknown>();
        value = options.decode ? options.decode(raw, e.key) : (raw as T);
      } catch (err) {
        options.onInvalid?.(err, e.key);
        if (values.delete(e.key)) options.onChange?.({ op: 'delete', key: e.key, revision: e.revision });
        return;
      }
      values.set(e.key, value);
      putAt.set(e.key, e.created.getTime());
      options.onChange?.({ op: 'put', key: e.key, value, revision: e.revision });
    } else {
      putAt.delete(e.key);
      if (values.delete(e.key)) options.onChange?.({ op: 'delete', key: e.key, revision: e.revision });
    }
  };

  const expire = () => {
    const limit = Date.now() - options.expireAfterMs!;
    for (const [key, at] of putAt) {
      if (at > limit) continue;
      putAt.delete(key);
      if (values.delete(key)) options.onChange?.({ op: 'delete', key, revision: revisions.get(key) ?? maxRevision });
    }
  };
  const expiry = options.expireAfterMs ? setInterval(expire, Math.max(50, Math.floor(options.expireAfterMs / 4))).unref() : undefined;

  const initialCount = async (): Promise<number> => {
    const jsm = await core.jsm();
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.${filter}` });
    return Object.keys(info.state.subjects ?? {}).length;
  };

  const start = async () => {
    const gen = ++generation;
    const seen = new Set<string>();
    let loading = true;
    const finishLoad = () => {
      if (!loading) return;
      loading = false;
      for (const key of [...revisions.keys()]) {
        if (seen.has(key)) continue;
        revisions.delete(key);
        putAt.delete(key);
        if (values.delete(key)) options.onChange?.({ op: 'delete', key, revision: maxRevision });
      }
      resolveReady();
    };
    const count = await initialCount();
    const it = await kv.watch({ key: filter });
    if (gen !== generation || stopped) {
      it.stop();
      return;
    }
    iter = it;
    if (count === 0) finishLoad();
    void (async () => {
      let received = 0;
      for await (const e of it) {
        if (gen !== generation) break;
        if (loading) {
          seen.add(e.key);
          received++;
        }
        apply(e);
        if (loading && (received >= count || e.delta === 0)) finishLoad();
      }
      if (!stopped && gen === generation) scheduleRestart();
    })().catch((err) => {
      core.log?.warn({ err, bucket }, 'KV watch failed; reloading');
      if (!stopped && gen === generation) scheduleRestart();
    });
  };

  let restartTimer: NodeJS.Timeout | undefined;
  const scheduleRestart = (delayMs = 250) => {
    if (stopped || restartTimer || core.nc.isClosed()) return;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      iter?.stop();
      reloads++;
      start().catch((err) => {
        core.log?.warn({ err, bucket }, 'KV watch restart failed; retrying');
        scheduleRestart(1000);
      });
    }, delayMs);
  };

  const unsubscribe = onBusEvent((e) => {
    if (e.type === 'reconnected') scheduleRestart(0);
  });

  try {
    await start();
  } catch (err) {
    unsubscribe();
    if (expiry) clearInterval(expiry);
    throw toMessagingError(err, 'watchKv', bucket);
  }

  return {
    ready,
    values,
    get: (key) => values.get(key),
    has: (key) => values.has(key),
    get size() {
      return values.size;
    },
    get revision() {
      return maxRevision;
    },
    get reloads() {
      return reloads;
    },
    stop: async () => {
      stopped = true;
      generation++;
      if (expiry) clearInterval(expiry);
      unsubscribe();
      if (restartTimer) clearTimeout(restartTimer);
      iter?.stop();
    },
  };
}
