import type { ReadStreamOptions, ReadStreamResult } from '../types.ts';
import { checkLimit, checkStreamName } from '../validate.ts';
import type { Queryable } from './queryable.ts';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.ts';
import type { SchemaNames } from './schema.ts';

const MAX_COUNT = 1_000_000;

/** The stream's version and its events from `fromVersion`, read in one statement (one snapshot). */
export async function readStream(q: Queryable, n: SchemaNames, stream: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
  checkStreamName(stream);
  const from = options.fromVersion ?? 0n;
  const max = options.maxCount === undefined ? MAX_COUNT : checkLimit('maxCount', options.maxCount, MAX_COUNT);
  const { rows } = await q.query({
    name: `${n.schema}.read_stream`,
    text: `SELECT st.version AS head, ${EVENT_COLUMNS}
           FROM ${n.q}.streams st
           LEFT JOIN LATERAL (
             SELECT * FROM ${n.q}.events x
             WHERE x.stream_id = st.stream_id AND x.stream_version >= $2
             ORDER BY x.stream_version LIMIT $3
           ) e ON true
           WHERE st.stream_id = $1`,
    values: [stream, from.toString(), max],
  });
  const head = rows[0]?.head as string | undefined;
  if (head === undefined || head === '-1') return { version: 'no_stream', events: [] };
  return {
    version: BigInt(head),
    events: (rows as (EventRow & { head: string })[]).filter((r) => r.event_id !== null).map(toRecordedEvent),
  };
}
