import { createHash } from 'node:crypto';
import pg from 'pg';
import { EventStoreError, EventStoreErrorCode } from '../errors.ts';
import { backoff, sleep } from '../sleep.ts';
import { checkSchemaName, clientConfig, DEFAULT_SCHEMA, describeTarget, isConnectionFailure, mapPgError, type PostgresConnectionOptions } from '../postgres/connection.ts';
import { checkProcessorId } from './checkpoints.ts';

/** A held single-active-processor lock. */
export interface ProcessorLock {
  readonly processorId: string;
  /**
   * Aborts when the lock is lost (its connection died: another instance may take over at once)
   * or released. `signal.reason` is an EventStoreError `TF_ERR_STORE_LOCK_LOST` when lost.
   */
  readonly signal: AbortSignal;
  /** True once the lock was lost rather than released. */
  readonly lost: boolean;
  /** Releases the lock and closes its connection. */
  release(): Promise<void>;
}

export interface AcquireProcessorLockOptions extends PostgresConnectionOptions {
  processorId: string;
  /** Wait until the lock is free (default true); with false, resolve `null` at once when it is taken. */
  wait?: boolean;
  /** How often a waiting instance retries (default 1000 ms). */
  retryMs?: number;
  /** How often the holder checks its connection (default 2000 ms). */
  heartbeatMs?: number;
  /** Stops waiting; resolves `null`. */
  signal?: AbortSignal;
  /** Called once when the lock is lost. */
  onLost?: (err: EventStoreError) => void;
  /** Called when the server is unreachable while waiting (waiting continues). */
  onUnavailable?: (err: Error, attempt: number) => void;
}

/** The 64-bit advisory lock key of a processor, namespaced by schema. */
export function processorLockKey(schema: string, processorId: string): bigint {
  return createHash('sha256').update(`tameflare.processor:${schema}:${processorId}`).digest().readBigInt64BE(0);
}

/**
 * Takes the single-active lock of a processor: a session advisory lock held by a dedicated
 * connection. The lock lives exactly as long as that session, so a crashed holder frees it as
 * soon as PostgreSQL notices the connection is gone; a heartbeat notices the same from our side
 * and aborts {@link ProcessorLock.signal}. Pair it with the compare-and-set checkpoint: the
 * heartbeat interval is a window in which two instances may both believe they hold the lock.
 *
 * @throws EventStoreUnavailableError when `wait` is false and PostgreSQL cannot be reached.
 */
export async function acquireProcessorLock(options: AcquireProcessorLockOptions): Promise<ProcessorLock | null> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const processorId = checkProcessorId(options.processorId);
  const key = processorLockKey(schema, processorId).toString();
  const target = describeTarget(options.connectionString);
  const wait = options.wait ?? true;
  const config = { ...clientConfig(options), application_name: `tameflare-lock:${processorId}`.slice(0, 63) };

  for (let attempt = 1; !options.signal?.aborted; ) {
    const client = new pg.Client(config);
    let broken: Error | null = null;
    client.on('error', (err) => (broken = err));
    try {
      await client.connect();
      for (;;) {
        const { rows } = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
        if (rows[0].ok === true) return hold(client, processorId, key, options);
        if (!wait) {
          await client.end();
          return null;
        }
        await sleep(options.retryMs ?? 1000, options.signal);
        if (options.signal?.aborted) break;
        if (broken) throw broken;
      }
      await client.end().catch(() => undefined);
      return null;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!isConnectionFailure(err)) throw err;
      if (!wait) mapPgError(err, target, 'acquiring a processor lock');
      options.onUnavailable?.(err as Error, attempt);
      await sleep(backoff(attempt++, 200, 5000), options.signal);
    }
  }
  return null;
}

function hold(client: pg.Client, processorId: string, key: string, options: AcquireProcessorLockOptions): ProcessorLock {
  const ctl = new AbortController();
  let lost = false;

  const lose = (cause: unknown) => {
    if (ctl.signal.aborted) return;
    lost = true;
    clearInterval(heartbeat);
    const err = new EventStoreError(EventStoreErrorCode.LockLost, `lost the single-active lock of processor "${processorId}": its connection failed`, {
      cause,
      details: { processorId },
    });
    ctl.abort(err);
    void client.end().catch(() => undefined);
    options.onLost?.(err);
  };

  const every = options.heartbeatMs ?? 2000;
  const heartbeat = setInterval(() => {
    // A dead network never answers; a heartbeat that takes longer than the interval counts as lost.
    const timeout = setTimeout(() => lose(new Error(`heartbeat unanswered after ${every} ms`)), every);
    client
      .query('SELECT 1')
      .catch(lose)
      .finally(() => clearTimeout(timeout));
  }, every);
  heartbeat.unref();
  client.removeAllListeners('error');
  client.on('error', lose);
  client.on('end', () => lose(new Error('connection ended')));

  return {
    processorId,
    signal: ctl.signal,
    get lost() {
      return lost;
    },
    async release() {
      if (ctl.signal.aborted) return;
      clearInterval(heartbeat);
      ctl.abort();
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
