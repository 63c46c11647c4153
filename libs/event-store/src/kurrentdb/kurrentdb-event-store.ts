import { eventTypes, streamOf, type TameFlareEvent } from '@tameflare/contracts';
import {
  BACKWARDS,
  END,
  KurrentDBClient,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as KurrentWrongVersion,
  eventTypeFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { decodeKurrentDbCheckpoint } from '../checkpoint.ts';
import { EventStoreError, EventStoreErrorCode, WrongExpectedVersionError, isUnavailable } from '../errors.ts';
import { backoff, sleep } from '../sleep.ts';
import type { AppendResult, Checkpoint, EventStore, ReadStreamResult, RecordedEvent, StreamVersion, SubscribeOptions } from '../types.ts';
import { checkLimit, checkStreamName, validateBatch } from '../validate.ts';
import { describeKurrentTarget, fromResolved, mapKurrentError, toEventData, toStreamState } from './mapping.ts';

export interface KurrentDbEventStoreOptions {
  /** `kurrentdb://host:2113?tls=false` (or a cluster connection string). Never logged. */
  connectionString: string;
  /** Deadline of each call (default 10000 ms). */
  deadlineMs?: number;
}

// Only our event types: $all also carries system events and other applications' streams.
const ourTypes = () => eventTypeFilter({ regex: `^(${eventTypes.join('|')})$` });

/**
 * The KurrentDB adapter of the event store port, over `@kurrent/kurrentdb-client`.
 *
 * Differences from PostgreSQL, all within the port's contract: the log is KurrentDB's `$all`
 * (ordered by commit position, so the late-commit problem does not arise); `appendIdempotent` is
 * atomic per stream rather than across streams (a partial batch is completed by redelivery, each
 * event being skipped by id); a duplicate id in `append` is KurrentDB's idempotent write rather
 * than DuplicateEventError; `migrate` has nothing to create. Processor checkpoints live in
 * PostgreSQL (`createProcessorStore`).
 */
export function createKurrentDbEventStore(options: KurrentDbEventStoreOptions): EventStore {
  const client = KurrentDBClient.connectionString(options.connectionString);
  const target = describeKurrentTarget(options.connectionString);
  const deadline = options.deadlineMs ?? 10_000;
  const fail = (operation: string) => (err: unknown) => mapKurrentError(err, target, operation);
  let disposed: Promise<void> | null = null;

  const collect = async (it: AsyncIterable<ResolvedEvent | AllStreamResolvedEvent>): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    for await (const r of it) {
      const e = fromResolved(r);
      if (e) out.push(e);
    }
    return out;
  };

  const streamVersion = async (stream: string): Promise<StreamVersion> => {
    try {
      for await (const r of client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1, deadline })) {
        if (r.event) return r.event.revision;
      }
      return 'no_stream';
    } catch (err) {
      if (err instanceof StreamNotFoundError) return 'no_stream';
      throw err;
    }
  };

  const readStream = async (stream: string, from = 0n, maxCount?: number): Promise<ReadStreamResult> => {
    checkStreamName(stream);
    let events: RecordedEvent[];
    try {
      events = await collect(client.readStream(stream, { fromRevision: from, maxCount: maxCount ?? Number.MAX_SAFE_INTEGER, deadline }));
    } catch (err) {
      if (err instanceof StreamNotFoundError) return { version: 'no_stream', events: [] };
      throw err;
    }
    return { version: await streamVersion(stream), events };
  };

  const append = async (stream: string, events: TameFlareEvent[], expected: Parameters<EventStore['append']>[2]): Promise<AppendResult> => {
    checkStreamName(stream);
    const batch = validateBatch(events);
    if (batch.length === 0) throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `nothing to append to "${stream}"`);
    try {
      const r = await client.appendToStream(stream, batch.map(toEventData), { streamState: toStreamState(expected.expectedVersion), deadline });
      const first = r.nextExpectedRevision - BigInt(batch.length) + 1n;
      // The append answers with the last position only; read the batch back for every position.
      const { events: written } = await readStream(stream, first, batch.length);
      return { nextExpectedVersion: r.nextExpectedRevision, positions: written.map((e) => ({ globalPosition: e.globalPosition, checkpoint: e.checkpoint })) };
    } catch (err) {
      if (err instanceof KurrentWrongVersion) {
        throw new WrongExpectedVersionError(stream, expected.expectedVersion, err.actualState === NO_STREAM ? 'no_stream' : BigInt(err.actualState), { cause: err });
      }
      throw err;
    }
  };

  const appendIdempotent = async (events: TameFlareEvent[]) => {
    const batch = validateBatch(events);
    const byStream = new Map<string, TameFlareEvent[]>();
    for (const e of batch) {
      const s = streamOf(e);
      const list = byStream.get(s);
      if (list) list.push(e);
      else byStream.set(s, [e]);
    }
    let appended = 0;
    for (const [stream, list] of byStream) {
      for (let attempt = 1; ; attempt++) {
        const current = await readStream(stream);
        const seen = new Set(current.events.map((e) => e.event.id));
        const fresh = list.filter((e) => !seen.has(e.id) && seen.add(e.id));
        if (fresh.length === 0) break;
        try {
          await client.appendToStream(stream, fresh.map(toEventData), { streamState: current.version === 'no_stream' ? NO_STREAM : current.version, deadline });
          appended += fresh.length;
          break;
        } catch (err) {
          // Another replica appended to this stream first: re-read and skip what it stored.
          if (err instanceof KurrentWrongVersion && attempt < 10) continue;
          throw err;
        }
      }
    }
    return { appended, skipped: batch.length - appended };
  };

  const readAll = async (after: Checkpoint | null, limit: number): Promise<RecordedEvent[]> => {
    checkLimit('limit', limit, 10_000);
    const from = after === null ? START : decodeKurrentDbCheckpoint(after);
    // fromPosition is inclusive for reads: ask for one more and drop the event at `after`.
    const page = await collect(client.readAll({ fromPosition: from, maxCount: limit + 1, filter: ourTypes(), deadline }));
    return page.filter((e) => e.checkpoint !== after).slice(0, limit);
  };

  async function* subscribeToAll(o: SubscribeOptions): AsyncGenerator<RecordedEvent[], void, undefined> {
    const batchSize = checkLimit('batchSize', o.batchSize ?? 500, 10_000);
    let cursor = o.after;
    let failures = 0;
    while (!o.signal?.aborted) {
      const sub = client.subscribeToAll({ fromPosition: cursor === null ? START : decodeKurrentDbCheckpoint(cursor), filter: ourTypes() });
      try {
        for (;;) {
          const raw = await nextBatch(sub, batchSize, o.signal);
          if (raw === null) break;
          const batch = raw.map(fromResolved).filter((e): e is RecordedEvent => e !== null);
          failures = 0;
          if (batch.length === 0) continue;
          cursor = batch[batch.length - 1]!.checkpoint;
          yield batch;
        }
      } catch (err) {
        const mapped = (() => {
          try {
            return fail('subscribeToAll')(err);
          } catch (e) {
            return e;
          }
        })();
        if (!isUnavailable(mapped)) throw mapped;
        o.onUnavailable?.(mapped as Error, ++failures);
        await sleep(backoff(failures, 100, 5000), o.signal);
      } finally {
        await sub.unsubscribe().catch(() => undefined);
      }
    }
  }

  return {
    kind: 'kurrentdb',
    append: (stream, events, o) => append(stream, events, o).catch(fail('append')),
    appendIdempotent: (events) => appendIdempotent(events).catch(fail('appendIdempotent')),
    readStream: (stream, o) => readStream(stream, o?.fromVersion ?? 0n, o?.maxCount === undefined ? undefined : checkLimit('maxCount', o.maxCount, 1_000_000)).catch(fail('readStream')),
    readAll: (o) => readAll(o.after, o.limit).catch(fail('readAll')),
    subscribeToAll,
    migrate: async () => undefined,
    close: () => (disposed ??= client.dispose()),
  };
}

/** Everything already buffered on the subscription (at least one event), or null when it ends or `signal` aborts. */
function nextBatch(sub: AllStreamSubscription, max: number, signal?: AbortSignal): Promise<AllStreamResolvedEvent[] | null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(null);
    const cleanup = () => {
      sub.off('readable', tryRead);
      sub.off('error', onError);
      sub.off('end', onEnd);
      signal?.removeEventListener('abort', onEnd);
    };
    const tryRead = () => {
      const out: AllStreamResolvedEvent[] = [];
      let item: AllStreamResolvedEvent | null;
      while (out.length < max && (item = sub.read() as AllStreamResolvedEvent | null) !== null) out.push(item);
      if (out.length > 0) {
        cleanup();
        resolve(out);
      }
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(err);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    sub.on('readable', tryRead);
    sub.once('error', onError);
    sub.once('end', onEnd);
    signal?.addEventListener('abort', onEnd, { once: true });
    tryRead();
  });
}
