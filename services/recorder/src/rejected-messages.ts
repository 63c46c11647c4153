import type { MsgHdrs } from '@nats-io/transport-node';
import type { Queryable } from '@tameflare/event-store';

/** A message the recorder could not record, kept with the reason instead of being dropped. */
export interface RejectedMessage {
  stream: string;
  seq: number;
  subject: string;
  deliveryCount: number;
  errorCode: string;
  errorMessage: string;
  payload: Uint8Array;
  headers: MsgHdrs | undefined;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** The recorder's own table. `(stream, stream_seq)` is unique so a redelivered rejection is kept once. */
export function rejectedMessagesSql(schema: string): string {
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid recorder schema name ${JSON.stringify(schema)}`);
  return `
CREATE SCHEMA IF NOT EXISTS "${schema}";
CREATE TABLE IF NOT EXISTS "${schema}".rejected_messages (
  id             bigserial PRIMARY KEY,
  stream         text NOT NULL,
  stream_seq     bigint NOT NULL,
  subject        text NOT NULL,
  delivery_count integer NOT NULL,
  error_code     text NOT NULL,
  error_message  text NOT NULL,
  payload        bytea NOT NULL,
  headers        jsonb NOT NULL,
  rejected_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream, stream_seq)
);`;
}

export async function migrateRejectedMessages(q: Queryable, schema: string): Promise<void> {
  try {
    await q.query({ text: rejectedMessagesSql(schema) });
  } catch (err) {
    // Two replicas starting together race on CREATE ... IF NOT EXISTS, which PostgreSQL reports
    // as a unique violation in its catalog; the other replica created it, so once more is a no-op.
    if ((err as { code?: string }).code !== '23505') throw err;
    await q.query({ text: rejectedMessagesSql(schema) });
  }
}

/** Stores rejected messages on `q` (the transaction that records the rest of the batch). */
export async function insertRejected(q: Queryable, schema: string, rows: RejectedMessage[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query({
    text: `INSERT INTO "${schema}".rejected_messages (stream, stream_seq, subject, delivery_count, error_code, error_message, payload, headers)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bytea[], $8::jsonb[])
           ON CONFLICT (stream, stream_seq) DO NOTHING`,
    values: [
      rows.map((r) => r.stream),
      rows.map((r) => r.seq),
      rows.map((r) => r.subject),
      rows.map((r) => r.deliveryCount),
      rows.map((r) => r.errorCode),
      rows.map((r) => r.errorMessage.slice(0, 2000)),
      rows.map((r) => Buffer.from(r.payload)),
      rows.map((r) => JSON.stringify(headersObject(r.headers))),
    ],
  });
}

function headersObject(h: MsgHdrs | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.values(k);
  return out;
}
