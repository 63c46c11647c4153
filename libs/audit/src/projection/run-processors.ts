import type pg from 'pg';
import { isTameFlareError } from '@tameflare/contracts';
import type { SubscribeOptions } from '@tameflare/event-store';
import { opsDb } from '../db/connect.ts';
import { READ_MODEL_SCHEMA } from '../db/schemas.ts';
import { AuditErrorCode } from '../errors.ts';
import { signHead, loadChainHead, type SigningPolicy } from '../chain/seal-batch.ts';
import { isPermanentProjectionError } from './apply-plan.ts';
import { projectBatch, projectIsolating, readModelGeneration, sealChainBatch, type CheckpointStore, type StoredEvent } from './project-batch.ts';

/** The processor ids under which the event store keeps the projector's checkpoints and locks. */
export const ProcessorIds = { readModels: 'audit-read-models', chain: 'audit-chain' } as const;

/** The subscription call of the event store (the `EventStore` port satisfies it). */
export interface SubscriptionSource {
  subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly StoredEvent[]>;
}

/** What a running processor reports after each committed batch. */
export interface BatchApplied {
  processorId: string;
  events: number;
  checkpoint: string;
  /** Event time of the last event in the batch. */
  lastEventTime: string | null;
}

export interface RunProcessorOptions {
  pool: pg.Pool;
  store: SubscriptionSource;
  checkpoints: CheckpointStore;
  signal: AbortSignal;
  processorId?: string;
  batchSize?: number;
  onApplied?: (b: BatchApplied) => void;
  /** A recoverable problem (database unreachable, checkpoint moved by another instance): the processor reloads and goes on. */
  onRetry?: (err: Error, attempt: number) => void;
  onUnavailable?: SubscribeOptions['onUnavailable'];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

const timeOf = (e: StoredEvent | undefined): string | null => {
  const t = e && typeof e.event === 'object' && e.event !== null ? (e.event as { time?: unknown }).time : null;
  return typeof t === 'string' ? t : null;
};

/**
 * The shared loop of both processors: load the checkpoint, subscribe after it, apply each batch
 * in a transaction that also moves the checkpoint. A recoverable failure (connection lost, the
 * checkpoint moved by another instance, a replay swapped the read models) restarts from the
 * stored checkpoint; an event that cannot be applied rejects with `TF_ERR_AUDIT_PROJECTION` and
 * leaves the checkpoint just before it. Resolves when `signal` aborts.
 */
async function runLoop(
  options: RunProcessorOptions,
  processorId: string,
  apply: (client: pg.PoolClient, events: readonly StoredEvent[], expected: string | null, generation: string | null) => Promise<string>,
  withGeneration: boolean,
): Promise<void> {
  const { signal } = options;
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const generation = withGeneration ? await readModelGeneration(options.pool) : null;
      let current = await options.checkpoints.loadCheckpoint(processorId);
      const batches = options.store.subscribeToAll({ after: current, batchSize: options.batchSize ?? 1000, signal, onUnavailable: options.onUnavailable });
      for await (const batch of batches) {
        const client = await options.pool.connect();
        try {
          await projectIsolating(
            batch,
            (events) => apply(client, events, current, generation),
            (checkpoint, events) => {
              current = checkpoint;
              attempt = 0;
              options.onApplied?.({ processorId, events: events.length, checkpoint, lastEventTime: timeOf(events.at(-1)) });
            },
          );
        } finally {
          client.release();
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (isPermanentProjectionError(err)) throw err;
      options.onRetry?.(err as Error, ++attempt);
      // A swap or a moved checkpoint is resolved by reloading at once; anything else backs off.
      const immediate = isTameFlareError(err, AuditErrorCode.Superseded) || isTameFlareError(err, 'TF_ERR_STORE_CHECKPOINT_CONFLICT');
      if (!immediate) await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)), signal);
    }
  }
}

/**
 * Keeps the read models in `audit` up to date with the event store, exactly once per event.
 * Run it only while holding the `audit-read-models` processor lock.
 */
export function runReadModelProjection(options: RunProcessorOptions): Promise<void> {
  const processorId = options.processorId ?? ProcessorIds.readModels;
  return runLoop(
    options,
    processorId,
    (client, events, expected, generation) =>
      projectBatch(client, {
        schema: READ_MODEL_SCHEMA,
        events,
        checkpoint: { store: options.checkpoints, processorId, expected },
        generation: generation ?? undefined,
      }),
    true,
  );
}

/**
 * Seals every event of the store into the audit chain, in log order, exactly once, signing the
 * head per `signing` and once more when it stops. Run it only while holding the `audit-chain` lock.
 */
export async function runChainSealer(options: RunProcessorOptions & { signing: SigningPolicy | null }): Promise<void> {
  const processorId = options.processorId ?? ProcessorIds.chain;
  try {
    await runLoop(
      options,
      processorId,
      async (client, events, expected) => (await sealChainBatch(client, { events, checkpoint: { store: options.checkpoints, processorId, expected }, signing: options.signing })).checkpoint,
      false,
    );
  } finally {
    // A clean stop leaves no unsigned tail: sign whatever head was reached.
    if (options.signing) {
      const db = opsDb(options.pool);
      const signing = options.signing;
      await loadChainHead(db)
        .then((head) => signHead(db, signing.key, head, (signing.now ?? (() => new Date()))()))
        .catch(() => undefined);
    }
  }
}
