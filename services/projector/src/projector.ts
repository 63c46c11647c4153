import { Kysely, PostgresDialect } from 'kysely';
import {
  createAuditPool,
  loadOrCreateSigningKey,
  migrateOps,
  migrateReadModels,
  opsDb,
  ProcessorIds,
  runChainSealer,
  runReadModelProjection,
  writeProcessorStatus,
  type BatchApplied,
  type ProcessorState,
  type RunProcessorOptions,
  type SigningPolicy,
} from '@tameflare/audit';
import { isTameFlareError } from '@tameflare/contracts';
import { createPostgresEventStore, type ProcessorLock } from '@tameflare/event-store';

/** The subset of a pino logger the projector uses. */
export interface ProjectorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type ProcessorName = 'read-models' | 'chain';

export interface ProjectorOptions {
  databaseUrl: string;
  eventStoreSchema?: string;
  /** Which processors this instance runs (default both). */
  processors?: readonly ProcessorName[];
  /** Where the chain signing key lives (created 0600 on first start). */
  stateDir: string;
  batchSize?: number;
  signEveryEvents?: number;
  signEveryMs?: number;
  instanceId: string;
  log: ProjectorLog;
  /** Readiness of this instance: false while a processor has failed. */
  setReady?: (ready: boolean, reason?: string) => void;
}

/** One processor's live state in this instance. */
export interface ProcessorView {
  name: ProcessorName;
  state: ProcessorState;
  checkpoint: string | null;
  eventsApplied: number;
  lastEventTime: string | null;
  failure: { eventId: string | null; eventType: string | null; checkpoint: string | null; code: string; message: string } | null;
}

export interface Projector {
  status(): ProcessorView[];
  /** Stops both processors (the sealer signs its head), releases the locks and closes connections. */
  close(): Promise<void>;
}

/**
 * The projector: for each processor, wait for its single-active lock (so any number of replicas
 * is safe: one runs, the others stand by and take over when its session dies), then keep the
 * read models, or the audit chain, in step with the event store. A processor that meets an event
 * it cannot apply stops, keeps its lock (a standby would only fail on the same event), records
 * the event in `audit_ops.processor_status`, logs it and turns readiness off.
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const store = createPostgresEventStore({
    connectionString: options.databaseUrl,
    schema: options.eventStoreSchema,
    onError: (err) => options.log.warn({ err }, 'event store connection error'),
  });
  const pool = createAuditPool({ connectionString: options.databaseUrl, applicationName: 'tameflare-projector', onError: (err) => options.log.warn({ err }, 'audit pool connection error') });
  // Only a fresh database is migrated here: the store's DDL takes table locks that would collide
  // with appends already running (the services that write the store migrate it themselves).
  const { rows } = await pool.query(`SELECT to_regclass($1) AS t`, [`${store.schema}.events`]);
  if (rows[0]?.t === null) await store.migrate();
  const migrator = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await migrateReadModels(migrator);
  await migrateOps(migrator);
  const ops = opsDb(pool);
  const key = loadOrCreateSigningKey(options.stateDir);
  const signing: SigningPolicy = { key, everyEvents: options.signEveryEvents ?? 10_000, everyMs: options.signEveryMs ?? 60_000 };
  options.log.info({ keyId: key.keyId }, 'chain signing key loaded');

  const shutdown = new AbortController();
  const names = options.processors ?? ['read-models', 'chain'];
  const views = new Map<ProcessorName, ProcessorView>(
    names.map((name) => [name, { name, state: 'waiting_for_lock', checkpoint: null, eventsApplied: 0, lastEventTime: null, failure: null }]),
  );
  const updateReadiness = () => {
    const failed = [...views.values()].filter((v) => v.state === 'failed');
    if (failed.length === 0) options.setReady?.(true);
    else options.setReady?.(false, failed.map((v) => `${v.name} stopped on event ${v.failure?.eventId ?? '?'}: ${v.failure?.message ?? ''}`).join('; '));
  };
  updateReadiness();

  const supervise = async (name: ProcessorName) => {
    const processorId = name === 'read-models' ? ProcessorIds.readModels : ProcessorIds.chain;
    const view = views.get(name)!;
    while (!shutdown.signal.aborted) {
      view.state = 'waiting_for_lock';
      const lock: ProcessorLock | null = await store.processors.acquireLock(processorId, {
        signal: shutdown.signal,
        onUnavailable: (err, attempt) => options.log.warn({ err: err.message, attempt, processor: name }, 'database unreachable while waiting for the processor lock'),
      });
      if (!lock) return;
      options.log.info({ processor: name }, 'holding the processor lock: running');
      const signal = AbortSignal.any([shutdown.signal, lock.signal]);
      let pending = 0;
      let last: BatchApplied | null = null;
      const flush = async (state: ProcessorState) => {
        const n = pending;
        pending = 0;
        await writeProcessorStatus(ops, {
          processorId,
          state,
          instanceId: options.instanceId,
          checkpoint: last?.checkpoint ?? null,
          eventsApplied: n,
          lastEventTime: last?.lastEventTime ?? null,
          failedEventId: view.failure?.eventId,
          failedEventType: view.failure?.eventType,
          failedCheckpoint: view.failure?.checkpoint,
          errorCode: view.failure?.code,
          errorMessage: view.failure?.message,
        }).catch((err) => {
          pending += n;
          options.log.warn({ err: (err as Error).message, processor: name }, 'cannot write processor status');
        });
      };
      view.state = 'running';
      view.failure = null;
      updateReadiness();
      await flush('running');
      const ticker = setInterval(() => void (pending > 0 && flush('running')), 1000);
      ticker.unref();
      const run: RunProcessorOptions = {
        pool,
        store,
        checkpoints: store.processors,
        signal,
        processorId,
        batchSize: options.batchSize,
        onApplied: (b) => {
          last = b;
          pending += b.events;
          view.eventsApplied += b.events;
          view.checkpoint = b.checkpoint;
          view.lastEventTime = b.lastEventTime;
        },
        onRetry: (err, attempt) => options.log.warn({ err: err.message, code: (err as { code?: string }).code, attempt, processor: name }, 'processor restarting from its checkpoint'),
        onUnavailable: (err, attempt) => options.log.warn({ err: err.message, attempt, processor: name }, 'event store unreachable; retrying'),
      };
      try {
        if (name === 'read-models') await runReadModelProjection(run);
        else await runChainSealer({ ...run, signing });
      } catch (err) {
        clearInterval(ticker);
        const details = (isTameFlareError(err) ? err.details : undefined) ?? {};
        view.state = 'failed';
        view.failure = {
          eventId: (details.eventId as string | null) ?? null,
          eventType: (details.eventType as string | null) ?? null,
          checkpoint: (details.checkpoint as string | null) ?? null,
          code: isTameFlareError(err) ? err.code : 'TF_ERR_AUDIT_PROJECTION',
          message: (err as Error).message,
        };
        options.log.error({ processor: name, ...view.failure }, 'processor stopped on an event it cannot apply; it will not skip it');
        await flush('failed');
        updateReadiness();
        // Keep the lock: a standby would stop on the same event. An operator fixes and restarts.
        await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
        await lock.release();
        return;
      }
      clearInterval(ticker);
      if (lock.lost) {
        options.log.warn({ processor: name }, 'lost the processor lock; waiting to take it again');
        continue;
      }
      await flush('stopped');
      await lock.release();
      return;
    }
  };

  const running = names.map((n) =>
    supervise(n).catch((err) => {
      options.log.error({ err, processor: n }, 'processor supervisor failed');
      const v = views.get(n)!;
      v.state = 'failed';
      v.failure = { eventId: null, eventType: null, checkpoint: null, code: isTameFlareError(err) ? err.code : 'TF_ERR_AUDIT_PROJECTION', message: (err as Error).message };
      updateReadiness();
    }),
  );

  let closing: Promise<void> | null = null;
  return {
    status: () => [...views.values()].map((v) => ({ ...v, failure: v.failure ? { ...v.failure } : null })),
    close: () =>
      (closing ??= (async () => {
        shutdown.abort();
        await Promise.all(running);
        await store.close();
        await pool.end();
      })()),
  };
}
