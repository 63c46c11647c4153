/**
 * The PostgreSQL event store: the latency of one append with an expected version (one round
 * trip to the plpgsql function, a commit per call), the recorder's appendIdempotent throughput at
 * batch sizes 1, 100 and 1000 (one transaction per batch), and readAll throughput in log order.
 * Runs against a fresh database on the local PostgreSQL.
 */
import { streamOf, uuidv7, type TameFlareEvent } from '../../libs/contracts/src/index.ts';
import { createPostgresEventStore } from '../../libs/event-store/src/index.ts';
import { fixtures } from '../../libs/event-store/src/test/index.ts';
import { createTestDatabase } from '../../libs/testing/src/index.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const db = await createTestDatabase('bench_event_store');
const store = createPostgresEventStore({ connectionString: db.url, schema: 'bench', maxConnections: 6 });
const rows: (string | number)[][] = [];
const data: Record<string, unknown> = {};

/** Four events per action, as the request path produces them. */
function actions(count: number): TameFlareEvent[] {
  const out: TameFlareEvent[] = [];
  for (let i = 0; i < count; i++) {
    const actionId = uuidv7();
    out.push(fixtures.actionRequested({ actionId }), fixtures.actionRequested({ actionId, path: '/decided' }), fixtures.actionRequested({ actionId, path: '/released' }), fixtures.actionCompleted(actionId));
  }
  return out;
}

try {
  await store.migrate();
  const settings = await store.pool.query(`SELECT current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync, version() AS v`);

  // Single append, expected version no_stream, one event per call.
  const appendN = quick ? 300 : 3000;
  const singles = Array.from({ length: appendN + 200 }, () => fixtures.gatewayCreated('bench'));
  for (const e of singles.slice(0, 200)) await store.append(`gateway-${e.id}`, [e], { expectedVersion: 'no_stream' });
  const lat: number[] = [];
  for (const e of singles.slice(200)) {
    const t = process.hrtime.bigint();
    await store.append(`gateway-${e.id}`, [e], { expectedVersion: 'no_stream' });
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const p = percentiles(lat, [50, 90, 99]);
  rows.push(['append, 1 event, expected version (latency)', `${fmt(p.p50!)} ms`, `${fmt(p.p99!)} ms`, `${fmt(1000 / (lat.reduce((a, b) => a + b, 0) / lat.length))} appends/s`, lat.length]);
  data.append = { p50ms: p.p50, p90ms: p.p90, p99ms: p.p99, n: lat.length };

  // appendIdempotent: one writer, then four concurrent writers (recorder replicas), by batch size.
  for (const [batch, writers, total] of [
    [1, 1, quick ? 400 : 4000],
    [100, 1, quick ? 4000 : 40_000],
    [1000, 1, quick ? 8000 : 80_000],
    [100, 4, quick ? 8000 : 80_000],
  ] as const) {
    const events = actions(total / 4);
    const chunks: TameFlareEvent[][] = [];
    for (let i = 0; i < events.length; i += batch) chunks.push(events.slice(i, i + batch));
    const perBatch: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < chunks.length) {
          const chunk = chunks[next++]!;
          const t = process.hrtime.bigint();
          const r = await store.appendIdempotent(chunk);
          perBatch.push(Number(process.hrtime.bigint() - t) / 1e6);
          if (r.appended !== chunk.length) throw new Error(`appended ${r.appended} of ${chunk.length}`);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const q = percentiles(perBatch, [50, 99]);
    const name = `appendIdempotent, batch ${batch}, ${writers} writer${writers > 1 ? 's' : ''}`;
    rows.push([name, `${fmt(q.p50!)} ms/batch`, `${fmt(q.p99!)} ms/batch`, `${fmt(events.length / seconds)} events/s`, events.length]);
    data[name] = { eventsPerSecond: events.length / seconds, batchP50ms: q.p50, batchP99ms: q.p99, events: events.length, streams: new Set(events.map(streamOf)).size };
  }

  // Redelivery: the same batch again is all skips.
  const again = actions(250);
  await store.appendIdempotent(again);
  const t0 = process.hrtime.bigint();
  const r = await store.appendIdempotent(again);
  const redeliveryMs = Number(process.hrtime.bigint() - t0) / 1e6;
  rows.push(['appendIdempotent, batch 1000 already stored (all skipped)', `${fmt(redeliveryMs)} ms/batch`, '', `${fmt(1000 / (redeliveryMs / 1000))} events/s`, r.skipped]);

  // readAll in log order, pages of 1000, from the start.
  let read = 0;
  let after: string | null = null;
  const r0 = process.hrtime.bigint();
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    if (page.length === 0) break;
    read += page.length;
    after = page[page.length - 1]!.checkpoint;
  }
  const readSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
  rows.push(['readAll, pages of 1000, whole log', '', '', `${fmt(read / readSeconds)} events/s`, read]);
  data.readAll = { eventsPerSecond: read / readSeconds, events: read };

  const s = settings.rows[0] as { sc: string; fsync: string; v: string };
  emit({
    suite: 'event-store',
    title: 'Event store (PostgreSQL adapter)',
    description:
      'Latency of one `append` with an expected version (one round trip, one commit), the recorder’s `appendIdempotent` throughput by batch size (one transaction per batch; ActionRequested/ActionCompleted events of about 1 KB, four per action stream), and `readAll` throughput in (transaction_id, global_position) order. Fresh database on the local server; client and server share the machine.',
    columns: ['operation', 'p50', 'p99', 'throughput', 'n'],
    rows,
    notes: [
      `PostgreSQL: ${s.v.split(' on ')[0]}, synchronous_commit=${s.sc}, fsync=${s.fsync}: every append is durable when it returns.`,
      'Events are validated against their schema inside every append (included in the figures).',
    ],
    data,
  });
} finally {
  await store.close();
  await db.drop();
}
