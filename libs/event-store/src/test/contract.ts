import { afterAll, describe, expect, it } from 'vitest';
import { ContractErrorCode, isTameFlareError, streamOf, uuidv7, type TameFlareEvent } from '@tameflare/contracts';
import { EventStoreErrorCode, WrongExpectedVersionError } from '../errors.ts';
import type { Checkpoint, EventStore, ExpectedVersion, RecordedEvent } from '../types.ts';
import { fixtures } from './fixtures.ts';

/** What the contract suite needs from an adapter's test setup. */
export interface ContractHarness {
  /** A migrated store. Stores from one `open()` and its `reopen()` share their storage. */
  open(): Promise<EventStore>;
  /** Another store on the storage of the last `open()`, as after a process restart. */
  reopen(): Promise<EventStore>;
  /** A store whose server cannot be reached; its connection string carries the password `hunter2`. */
  unreachable(): EventStore;
  /** Text the unreachable store's errors must name (host and port). */
  unreachableTarget: string;
  /**
   * Starts appending `events` to `stream` so that the append takes its place in the log now but
   * commits only when `commit()` is called (PostgreSQL: an open transaction). Adapters whose
   * positions are assigned at commit simply append on `commit()`.
   */
  beginAppend(store: EventStore, stream: string, events: TameFlareEvent[]): Promise<{ commit(): Promise<void> }>;
  /** Appends while holding the transaction open for about `holdMs` before committing. */
  slowAppend(store: EventStore, stream: string, events: TameFlareEvent[], expectedVersion: ExpectedVersion, holdMs: number): Promise<void>;
  /** Concurrent writers in the many-writers test (bounded by the connections a test may take). */
  writers?: number;
}

const stream = (family: string) => `${family}-${uuidv7()}`;
const gateway = () => `gw-${uuidv7().slice(-12)}`;

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** Reads the whole log after `after` page by page, keeping only events whose id is in `ids`. */
async function readAllOf(store: EventStore, ids: Set<string>, after: Checkpoint | null = null, page = 250): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const batch = await store.readAll({ after: cursor, limit: page });
    if (batch.length === 0) return out;
    for (const e of batch) if (ids.has(e.event.id)) out.push(e);
    cursor = batch[batch.length - 1]!.checkpoint;
  }
}

/**
 * {@link readAllOf} until `count` events are there. The log only shows a committed transaction once
 * every older transaction on the server has ended (any database, any client), so a read right
 * after a commit may lag: read-your-writes is `readStream`'s job, not `readAll`'s.
 */
async function readAllUntil(store: EventStore, ids: Set<string>, count: number, after: Checkpoint | null = null): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = await readAllOf(store, ids, after);
    if (got.length >= count || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs a subscription in the background, collecting events whose id is in `ids`. */
function collect(store: EventStore, ids: Set<string>, after: Checkpoint | null = null, batchSize = 100) {
  const ctl = new AbortController();
  const seen: RecordedEvent[] = [];
  let lastCheckpoint: Checkpoint | null = after;
  const done = (async () => {
    for await (const batch of store.subscribeToAll({ after, batchSize, signal: ctl.signal })) {
      for (const e of batch) if (ids.has(e.event.id)) seen.push(e);
      lastCheckpoint = batch[batch.length - 1]!.checkpoint;
    }
  })();
  return {
    seen,
    get lastCheckpoint() {
      return lastCheckpoint;
    },
    async until(count: number, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count) {
        if (Date.now() > deadline) throw new Error(`subscription saw ${seen.length} of ${count} events`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      ctl.abort();
      await done;
    },
  };
}

function idsOf(events: { event: TameFlareEvent }[]): string[] {
  return events.map((e) => e.event.id);
}

/**
 * The behaviour every event store adapter must show. Call it inside a test file with the
 * adapter's harness; PostgreSQL runs it everywhere, KurrentDB where `KURRENTDB_URL` is set.
 */
export function describeEventStoreContract(name: string, harness: ContractHarness): void {
  describe(`event store contract: ${name}`, () => {
    const open: EventStore[] = [];
    const track = async (p: Promise<EventStore>) => {
      const s = await p;
      open.push(s);
      return s;
    };
    afterAll(async () => {
      await Promise.all(open.map((s) => s.close()));
    });

    it('appends and reads a stream back exactly as written', async () => {
      const store = await track(harness.open());
      const s = stream('gateway');
      const gw = gateway();
      const events = [fixtures.gatewayCreated(gw), fixtures.gatewayCreated(gw, 'second \u0000 name ✓'), fixtures.gatewayCreated(gw, 'third')];
      const r = await store.append(s, events, { expectedVersion: 'no_stream' });
      expect(r.nextExpectedVersion).toBe(2n);
      expect(r.positions).toHaveLength(3);
      expect(new Set(r.positions.map((p) => p.checkpoint)).size).toBe(3);

      const read = await store.readStream(s);
      expect(read.version).toBe(2n);
      expect(read.events.map((e) => e.event)).toEqual(events);
      expect(read.events.map((e) => e.streamVersion)).toEqual([0n, 1n, 2n]);
      expect(read.events.every((e) => e.streamId === s)).toBe(true);
      expect(read.events.map((e) => e.checkpoint)).toEqual(r.positions.map((p) => p.checkpoint));

      const part = await store.readStream(s, { fromVersion: 1n, maxCount: 1 });
      expect(part.version).toBe(2n);
      expect(idsOf(part.events)).toEqual([events[1]!.id]);

      const missing = await store.readStream(stream('gateway'));
      expect(missing).toEqual({ version: 'no_stream', events: [] });
    });

    it('checks every kind of expected version and writes nothing on a conflict', async () => {
      const store = await track(harness.open());
      const s = stream('gateway');
      const gw = gateway();
      const ev = () => fixtures.gatewayCreated(gw);

      const noStream = await rejection(store.append(s, [ev()], { expectedVersion: 'stream_exists' }));
      expect(noStream).toBeInstanceOf(WrongExpectedVersionError);
      expect(noStream.code).toBe(EventStoreErrorCode.WrongVersion);
      expect(noStream.expected).toBe('stream_exists');
      expect(noStream.actual).toBe('no_stream');
      expect(await store.readStream(s)).toEqual({ version: 'no_stream', events: [] });

      expect((await store.append(s, [ev(), ev()], { expectedVersion: 'no_stream' })).nextExpectedVersion).toBe(1n);

      const exists = await rejection(store.append(s, [ev()], { expectedVersion: 'no_stream' }));
      expect(exists.code).toBe(EventStoreErrorCode.WrongVersion);
      expect(exists.actual).toBe(1n);

      expect((await store.append(s, [ev()], { expectedVersion: 1n })).nextExpectedVersion).toBe(2n);
      const stale = await rejection(store.append(s, [ev(), ev()], { expectedVersion: 1n }));
      expect(stale).toBeInstanceOf(WrongExpectedVersionError);
      expect(stale.expected).toBe(1n);
      expect(stale.actual).toBe(2n);
      expect(stale.message).toContain(s);

      expect((await store.append(s, [ev()], { expectedVersion: 'stream_exists' })).nextExpectedVersion).toBe(3n);
      expect((await store.append(s, [ev()], { expectedVersion: 'any' })).nextExpectedVersion).toBe(4n);
      const fresh = stream('gateway');
      expect((await store.append(fresh, [ev()], { expectedVersion: 'any' })).nextExpectedVersion).toBe(0n);

      const after = await store.readStream(s);
      expect(after.version).toBe(4n);
      expect(after.events.map((e) => e.streamVersion)).toEqual([0n, 1n, 2n, 3n, 4n]);
    });

    it('lets exactly one of several writers with the same expected version win', async () => {
      const store = await track(harness.open());
      const s = stream('gateway');
      const gw = gateway();
      await store.append(s, [fixtures.gatewayCreated(gw)], { expectedVersion: 'no_stream' });
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.append(s, [fixtures.gatewayCreated(gw)], { expectedVersion: 0n })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(losers).toHaveLength(5);
      for (const l of losers) expect(l.reason.code).toBe(EventStoreErrorCode.WrongVersion);
      expect((await store.readStream(s)).version).toBe(1n);
    });

    it('refuses a batch with a malformed event, an unknown type or an unknown version, writing none of it', async () => {
      const store = await track(harness.open());
      const gw = gateway();
      const good = fixtures.gatewayCreated(gw);
      const cases: [unknown, string][] = [
        [{ ...fixtures.gatewayCreated(gw), data: { gatewayId: gw, name: 'x', mode: 'sometimes', createdBy: 't' } }, ContractErrorCode.Schema],
        [{ ...fixtures.gatewayCreated(gw), type: 'GatewayExploded' }, ContractErrorCode.UnknownType],
        [{ ...fixtures.gatewayCreated(gw), version: 99 }, ContractErrorCode.UnknownVersion],
        [{ ...fixtures.gatewayCreated(gw), id: 'not-a-uuid' }, ContractErrorCode.Schema],
      ];
      for (const [bad, code] of cases) {
        const s = stream('gateway');
        const err = await rejection(store.append(s, [good, bad as TameFlareEvent], { expectedVersion: 'any' }));
        expect(isTameFlareError(err, code)).toBe(true);
        expect(err.name).toBe('ContractError');
        expect(await store.readStream(s)).toEqual({ version: 'no_stream', events: [] });

        const req = fixtures.actionRequested();
        const err2 = await rejection(store.appendIdempotent([req, bad as TameFlareEvent]));
        expect(isTameFlareError(err2, code)).toBe(true);
        expect((await store.readStream(streamOf(req))).version).toBe('no_stream');
      }
    });

    it('keeps a stable total order with many concurrent writers, some holding their transaction open', async () => {
      const store = await track(harness.open());
      const writers = harness.writers ?? 16;
      const perWriter = 300;
      const shared = Array.from({ length: 4 }, () => stream('gateway'));
      const gw = gateway();
      const planned: TameFlareEvent[][] = Array.from({ length: writers }, () => Array.from({ length: perWriter }, () => fixtures.gatewayCreated(gw)));
      const ids = new Set(planned.flat().map((e) => e.id));
      const live = collect(store, ids, null, 97);

      await Promise.all(
        planned.map(async (events, w) => {
          const own = stream('gateway');
          for (let i = 0, k = 0; i < events.length; k++) {
            const size = 1 + ((w * 7 + k * 3) % 9);
            const chunk = events.slice(i, i + size);
            i += size;
            const target = k % 3 === 0 ? shared[(w + k) % shared.length]! : own;
            // Every fourth writer keeps some transactions open while the others commit past it.
            if (w % 4 === 0 && k % 5 === 0) await harness.slowAppend(store, target, chunk, 'any', 20 + ((w + k) % 4) * 10);
            else await store.append(target, chunk, { expectedVersion: 'any' });
          }
        }),
      );

      await live.until(ids.size, 60_000);
      await live.stop();
      const liveIds = idsOf(live.seen);
      expect(liveIds).toHaveLength(ids.size);
      expect(new Set(liveIds).size).toBe(ids.size);

      // A second, independent reader after the fact sees the same order.
      const replay = await readAllOf(store, ids);
      expect(idsOf(replay)).toEqual(liveIds);

      // Within each stream the log order is the stream order, gap-free.
      const versions = new Map<string, bigint[]>();
      for (const e of live.seen) versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.streamVersion]);
      for (const [s, vs] of versions) {
        const { version } = await store.readStream(s);
        expect(vs).toEqual(Array.from({ length: vs.length }, (_, i) => BigInt(i)));
        expect(version).toBe(BigInt(vs.length - 1));
      }
    }, 120_000);

    it('never lets a checkpoint pass an event whose transaction committed after a later one', async () => {
      const store = await track(harness.open());
      const gw = gateway();
      const a = fixtures.gatewayCreated(gw, 'A, slow');
      const b = fixtures.gatewayCreated(gw, 'B, fast');
      const ids = new Set([a.id, b.id]);
      const live = collect(store, ids);

      const pendingA = await harness.beginAppend(store, stream('gateway'), [a]);
      await store.append(stream('gateway'), [b], { expectedVersion: 'no_stream' });
      await new Promise((r) => setTimeout(r, 300));

      // Whatever a reader can see now, resuming from its last checkpoint must still bring A.
      const visible = await readAllOf(store, new Set(ids));
      const cursor = visible.length ? visible[visible.length - 1]!.checkpoint : null;
      expect(idsOf(visible)).not.toContain(a.id);

      await pendingA.commit();
      const resumed = await readAllUntil(store, ids, 2 - visible.length, cursor);
      expect(idsOf([...visible, ...resumed]).sort()).toEqual([a.id, b.id].sort());

      await live.until(2);
      await new Promise((r) => setTimeout(r, 100));
      await live.stop();
      expect(idsOf(live.seen).sort()).toEqual([a.id, b.id].sort());
      expect(idsOf(await readAllOf(store, ids))).toEqual(idsOf(live.seen));
    });

    it('resumes from a saved checkpoint after the store is closed and reopened, delivering only later events', async () => {
      const first = await harness.open();
      const gw = gateway();
      const before = Array.from({ length: 5 }, () => fixtures.gatewayCreated(gw));
      await first.append(stream('gateway'), before.slice(0, 2), { expectedVersion: 'no_stream' });
      await first.append(stream('gateway'), before.slice(2), { expectedVersion: 'no_stream' });
      const sub = collect(first, new Set(before.map((e) => e.id)));
      await sub.until(5);
      await sub.stop();
      const saved = sub.seen[sub.seen.length - 1]!.checkpoint;
      await first.close();

      const second = await track(harness.reopen());
      const later = Array.from({ length: 3 }, () => fixtures.gatewayCreated(gw));
      await second.append(stream('gateway'), later, { expectedVersion: 'no_stream' });
      const everything = new Set([...before, ...later].map((e) => e.id));
      const resumed = collect(second, everything, saved);
      await resumed.until(3);
      await new Promise((r) => setTimeout(r, 200));
      await resumed.stop();
      expect(idsOf(resumed.seen)).toEqual(later.map((e) => e.id));
      expect(idsOf(await readAllOf(second, everything, saved))).toEqual(later.map((e) => e.id));
    });

    it('stores each event once when replicas append overlapping batches concurrently', async () => {
      const store = await track(harness.open());
      const actions = Array.from({ length: 60 }, () => uuidv7());
      const all: TameFlareEvent[] = [];
      for (const actionId of actions) {
        all.push(fixtures.actionRequested({ actionId }), fixtures.actionRequested({ actionId, path: '/again' }), fixtures.actionCompleted(actionId));
      }
      const replicas = 6;
      const submissions = await Promise.all(
        Array.from({ length: replicas }, async (_, r) => {
          // Each replica sees every event (redelivery), in its own chunking, with in-batch repeats.
          const order = all.map((e, i) => ({ e, k: (i * (r + 3) * 7919) % all.length })).sort((x, y) => x.k - y.k).map((x) => x.e);
          let appended = 0;
          let skipped = 0;
          for (let i = 0; i < order.length; ) {
            const size = 1 + ((i + r * 13) % 37);
            const chunk = order.slice(i, i + size);
            if (i % 5 === 0) chunk.push(chunk[0]!);
            i += size;
            const res = await store.appendIdempotent(chunk);
            appended += res.appended;
            skipped += res.skipped;
            expect(res.appended + res.skipped).toBe(chunk.length);
          }
          return { appended, skipped };
        }),
      );
      expect(submissions.reduce((n, s) => n + s.appended, 0)).toBe(all.length);

      for (const actionId of actions) {
        const { version, events } = await store.readStream(`action-${actionId}`);
        expect(version).toBe(2n);
        expect(events.map((e) => e.streamVersion)).toEqual([0n, 1n, 2n]);
        expect(new Set(idsOf(events)).size).toBe(3);
      }
      const logged = await readAllUntil(store, new Set(all.map((e) => e.id)), all.length);
      expect(logged).toHaveLength(all.length);

      const again = await store.appendIdempotent(all.slice(0, 10));
      expect(again).toEqual({ appended: 0, skipped: 10 });
    });

    it('reports an unreachable server as EventStoreUnavailableError without leaking credentials', async () => {
      const store = harness.unreachable();
      try {
        const calls: [string, Promise<unknown>][] = [
          ['append', store.append(stream('gateway'), [fixtures.gatewayCreated(gateway())], { expectedVersion: 'any' })],
          ['appendIdempotent', store.appendIdempotent([fixtures.actionRequested()])],
          ['readStream', store.readStream(stream('gateway'))],
          ['readAll', store.readAll({ after: null, limit: 10 })],
        ];
        for (const [operation, call] of calls) {
          const err = await rejection(call);
          expect(err.name).toBe('EventStoreUnavailableError');
          expect(err.code).toBe(EventStoreErrorCode.Unavailable);
          expect(err.message).toContain(operation);
          expect(err.message).toContain(harness.unreachableTarget);
          expect(err.message).not.toContain('hunter2');
          expect(JSON.stringify(err)).not.toContain('hunter2');
          expect(err.cause).toBeDefined();
        }
      } finally {
        await store.close();
      }
    });
  });
}
