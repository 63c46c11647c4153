import { isHotPath, isTameFlareError, type TameFlareEvent } from '@tameflare/contracts';
import { EventStoreErrorCode, isUnavailable, type Checkpoint, type PostgresEventStore } from '@tameflare/event-store';
import type { PublishAck } from '@tameflare/messaging';

export interface RelayOptions {
  store: PostgresEventStore;
  publishEvents(events: readonly TameFlareEvent[]): Promise<PublishAck[]>;
  /** Checkpoint and lock name (default `tf-recorder-relay`). */
  processorId?: string;
  batchSize?: number;
  /** Longest gap between checkpoint saves while only hot-path events go by (default 1000 ms). */
  idleSaveMs?: number;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  backoffMs(failures: number): number;
}

export interface Relay {
  /** True while this instance holds the relay lock. */
  readonly active: boolean;
  stop(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Publishes every event of the store that is not hot-path (control, approval, vault events) to
 * JetStream, in log order, so other tools can subscribe to them. One active relay across all
 * replicas (the processor lock); the others wait to take over. The checkpoint is saved only
 * after JetStream acked the batch, so a crash republishes at most the last batch, which the
 * stream's duplicate window (`Nats-Msg-Id` = event id) drops.
 */
export function startRelay(options: RelayOptions): Relay {
  const id = options.processorId ?? 'tf-recorder-relay';
  const stopping = new AbortController();
  const { store, log } = options;
  let active = false;

  const retry = async <T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T | undefined> => {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        return await fn();
      } catch (err) {
        if (isTameFlareError(err, EventStoreErrorCode.CheckpointConflict)) throw err;
        log.warn({ err, attempt: failures }, `relay: ${what} failed; retrying`);
        await sleep(options.backoffMs(failures), signal);
      }
    }
    return undefined;
  };

  const runOnce = async () => {
    const lock = await store.processors.acquireLock(id, {
      signal: stopping.signal,
      onLost: (err) => log.warn({ err }, 'relay: lost the relay lock; another replica may take over'),
      onUnavailable: (err, attempt) => log.warn({ err, attempt }, 'relay: cannot reach PostgreSQL to take the relay lock'),
    });
    if (!lock) return;
    active = true;
    const run = AbortSignal.any([stopping.signal, lock.signal]);
    try {
      let saved = (await retry('loading the checkpoint', run, () => store.processors.loadCheckpoint(id))) ?? null;
      let pending: Checkpoint | null = null;
      let savedAt = Date.now();
      // On a graceful stop the last checkpoint is still saved, as long as the lock is held.
      const save = async (signal: AbortSignal) => {
        if (pending === null || signal.aborted) return;
        const next: Checkpoint = pending;
        await retry('saving the checkpoint', signal, () => store.processors.saveCheckpoint(store.pool, id, saved, next));
        if (signal.aborted) return;
        saved = next;
        pending = null;
        savedAt = Date.now();
      };
      log.info({ checkpoint: saved }, 'relay: active');
      for await (const batch of store.subscribeToAll({ after: saved, batchSize: options.batchSize ?? 500, signal: run })) {
        const out = batch.map((r) => r.event).filter((e) => !isHotPath(e));
        if (out.length) {
          const acked = await retry('publishing to JetStream', run, () => options.publishEvents(out));
          if (!acked) break;
        }
        pending = batch[batch.length - 1]!.checkpoint;
        if (out.length || Date.now() - savedAt >= (options.idleSaveMs ?? 1000)) await save(run);
      }
      await save(lock.signal);
    } catch (err) {
      if (isTameFlareError(err, EventStoreErrorCode.CheckpointConflict)) log.warn({ err }, 'relay: another instance moved the checkpoint; stepping down');
      else if (!isUnavailable(err)) log.error({ err }, 'relay: stopped by an error; restarting');
      await sleep(options.backoffMs(2), stopping.signal);
    } finally {
      active = false;
      await lock.release();
    }
  };

  const done = (async () => {
    while (!stopping.signal.aborted) await runOnce();
  })();

  return {
    get active() {
      return active;
    },
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
