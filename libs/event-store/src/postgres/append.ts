import type { TameFlareEvent } from '@tameflare/contracts';
import { encodePostgresCheckpoint } from '../checkpoint.ts';
import { DuplicateEventError, EventStoreError, EventStoreErrorCode, WrongExpectedVersionError } from '../errors.ts';
import type { AppendOptions, AppendResult, ExpectedVersion, StreamVersion } from '../types.ts';
import { checkStreamName, validateBatch } from '../validate.ts';
import { batchParams } from './batch-params.ts';
import type { Queryable } from './queryable.ts';
import { ORDERING_SQLSTATE, WRONG_VERSION_SQLSTATE, type SchemaNames } from './schema.ts';

/**
 * Appends to one stream with an expected version, in one round trip (`append_to_stream`).
 * Runs on `q`, so it joins the caller's transaction when given a client inside one.
 */
export async function appendToStream(
  q: Queryable,
  n: SchemaNames,
  stream: string,
  events: TameFlareEvent[],
  options: AppendOptions,
): Promise<AppendResult> {
  checkStreamName(stream);
  const batch = validateBatch(events);
  if (batch.length === 0) throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `nothing to append to "${stream}"`);
  const { kind, expected } = expectation(options.expectedVersion);
  let rows: { o_version: string; o_tx: string; o_positions: string[] }[];
  try {
    ({ rows } = await q.query({
      name: `${n.schema}.append_to_stream`,
      text: `SELECT o_version, o_tx::text AS o_tx, o_positions FROM ${n.q}.append_to_stream($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      values: [stream, kind, expected, ...batchParams(batch)],
    }));
  } catch (err) {
    const e = err as { code?: string; detail?: string; constraint?: string };
    if (e.code === WRONG_VERSION_SQLSTATE) {
      const actual: StreamVersion = e.detail === undefined || e.detail === '-1' ? 'no_stream' : BigInt(e.detail);
      throw new WrongExpectedVersionError(stream, options.expectedVersion, actual, { cause: err });
    }
    if (e.code === '23505' && e.constraint === 'events_event_id_key') throw new DuplicateEventError(stream, { cause: err });
    if (e.code === ORDERING_SQLSTATE) throw orderingConflict(err);
    throw err;
  }
  const row = rows[0]!;
  const tx = BigInt(row.o_tx);
  return {
    nextExpectedVersion: BigInt(row.o_version),
    positions: row.o_positions.map((p) => {
      const globalPosition = BigInt(p);
      return { globalPosition, checkpoint: encodePostgresCheckpoint(tx, globalPosition) };
    }),
  };
}

/** The caller's transaction wrote before appending and a younger transaction appended to the stream meanwhile. */
export function orderingConflict(cause: unknown): EventStoreError {
  return new EventStoreError(
    EventStoreErrorCode.OrderingConflict,
    'a younger transaction appended to this stream while this one was open: retry the transaction, appending before other writes',
    { cause },
  );
}

function expectation(v: ExpectedVersion): { kind: string; expected: string | null } {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `expected version must be >= 0, got ${v}`);
    return { kind: 'exact', expected: v.toString() };
  }
  if (v === 'any' || v === 'no_stream' || v === 'stream_exists') return { kind: v, expected: null };
  throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `invalid expected version ${JSON.stringify(String(v))}`);
}
