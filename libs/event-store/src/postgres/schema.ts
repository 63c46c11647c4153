/**
 * The PostgreSQL schema of the event store, after Emmett's `emt_messages`/`emt_streams`
 * (research/architecture.md §1.3, option 1):
 *
 * - `events`: one row per event. `transaction_id xid8 DEFAULT pg_current_xact_id()` and
 *   `global_position` from a sequence; readers order by `(transaction_id, global_position)` and
 *   only read below the snapshot xmin, so an event committed late by a slow writer is never
 *   skipped. `data`/`metadata` are `json` (not `jsonb`) so the event reads back exactly as it was
 *   written, including strings `jsonb` refuses (`\u0000`).
 * - `streams`: one row per stream holding its version and last writer; writers of a stream are
 *   serialised by a transaction-level advisory lock on the stream name's hash.
 * - `processors`: checkpoints of subscribers, written with compare-and-set.
 */

/** Names derived from the schema, so two stores in one database never share anything. */
export interface SchemaNames {
  schema: string;
  /** `"schema"` */
  q: string;
  /** LISTEN/NOTIFY channel woken on every append. */
  channel: string;
}

export function schemaNames(schema: string): SchemaNames {
  return { schema, q: `"${schema}"`, channel: `${schema}_appended` };
}

/** Raised inside `append_to_stream` on a version conflict; the detail carries the actual version. */
export const WRONG_VERSION_SQLSTATE = 'TF409';
/** Raised when a caller's transaction that already wrote would append behind a younger one. */
export const ORDERING_SQLSTATE = 'TF40O';

/** The first key of the stream advisory locks: per schema, and apart from the processor locks' 64-bit keys. */
export function lockClass(n: SchemaNames): number {
  let h = 0x74666c6b;
  for (const ch of n.schema) h = (Math.imul(h ^ ch.charCodeAt(0), 0x01000193) | 0) >>> 0;
  return h | 0;
}

/** The processor checkpoint table alone (for read models kept in PostgreSQL next to a KurrentDB store). */
export function processorsMigrationSql(n: SchemaNames): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${n.q};
CREATE TABLE IF NOT EXISTS ${n.q}.processors (
  processor_id text PRIMARY KEY,
  checkpoint   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
`;
}

/** Every statement of the event store's migration; each is idempotent. */
export function migrationSql(n: SchemaNames): string {
  const s = n.q;
  return processorsMigrationSql(n) + `

CREATE SEQUENCE IF NOT EXISTS ${s}.global_position AS bigint;

CREATE TABLE IF NOT EXISTS ${s}.streams (
  stream_id  text PRIMARY KEY,
  version    bigint NOT NULL CHECK (version >= 0),
  -- The last transaction that appended: a later writer must have a later transaction id.
  last_tx    xid8 NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ${s}.events (
  global_position bigint NOT NULL DEFAULT nextval('${s}.global_position'),
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  stream_version  bigint NOT NULL,
  event_id        uuid NOT NULL,
  event_type      text NOT NULL,
  event_version   integer NOT NULL,
  event_time      text NOT NULL,
  data            json NOT NULL,
  metadata        json NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_pkey PRIMARY KEY (stream_id, stream_version),
  CONSTRAINT events_event_id_key UNIQUE (event_id)
);
ALTER SEQUENCE ${s}.global_position OWNED BY ${s}.events.global_position;

CREATE INDEX IF NOT EXISTS events_log_order ON ${s}.events (transaction_id, global_position);


-- A batch as rows. Scalars come as arrays; data and metadata as JSON arrays split with
-- json_array_elements, the one json function that does not de-escape strings (json -> 'key' fails
-- on a document containing an escaped NUL character, which events may legitimately carry).
CREATE OR REPLACE FUNCTION ${s}.batch_rows(
  p_streams text[], p_ids uuid[], p_types text[], p_versions integer[], p_times text[], p_data json, p_metadata json)
RETURNS TABLE (ord bigint, sid text, id uuid, type text, version integer, "time" text, data json, metadata json)
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT i.ord, i.sid, i.id, i.type, i.version, i.time, d.value, m.value
  FROM unnest(p_streams, p_ids, p_types, p_versions, p_times) WITH ORDINALITY AS i(sid, id, type, version, time, ord)
  JOIN json_array_elements(p_data) WITH ORDINALITY AS d(value, ord) ON d.ord = i.ord
  JOIN json_array_elements(p_metadata) WITH ORDINALITY AS m(value, ord) ON m.ord = i.ord
$fn$;

-- Appends a batch to one stream after checking the expected version (kind: any | no_stream |
-- stream_exists | exact). One call, one round trip. A conflict raises ${WRONG_VERSION_SQLSTATE}, so the
-- transaction rolls back whatever it did.
--
-- Writers of a stream are serialised by a transaction-level advisory lock taken BEFORE anything
-- is written, because the first write assigns the transaction id that orders the global log:
-- taken after the lock, ids grow in lock order and each stream reads back in version order. (A
-- row lock would not do: SELECT FOR UPDATE assigns the id before it waits, and waiters are not
-- woken in id order.) A caller's transaction that wrote before appending already has its id;
-- if a younger transaction appended to the stream meanwhile, ${ORDERING_SQLSTATE} asks it to retry.
CREATE OR REPLACE FUNCTION ${s}.append_to_stream(
  p_stream text, p_kind text, p_expected bigint,
  p_ids uuid[], p_types text[], p_versions integer[], p_times text[], p_data json, p_metadata json)
RETURNS TABLE (o_version bigint, o_tx xid8, o_positions bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE
  v_current bigint;
  v_last_tx xid8;
  v_positions bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock(${lockClass(n)}, hashtext(p_stream));
  SELECT st.version, st.last_tx INTO v_current, v_last_tx FROM ${s}.streams st WHERE st.stream_id = p_stream;
  v_current := coalesce(v_current, -1);
  IF (p_kind = 'no_stream' AND v_current <> -1)
     OR (p_kind = 'stream_exists' AND v_current = -1)
     OR (p_kind = 'exact' AND v_current <> p_expected) THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = '${WRONG_VERSION_SQLSTATE}', DETAIL = v_current::text;
  END IF;
  IF v_last_tx > pg_current_xact_id_if_assigned() THEN
    RAISE EXCEPTION 'a younger transaction appended to % first', p_stream USING ERRCODE = '${ORDERING_SQLSTATE}';
  END IF;
  WITH ins AS (
    INSERT INTO ${s}.events (stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
    SELECT p_stream, v_current + b.ord, b.id, b.type, b.version, b.time, b.data, b.metadata
    FROM ${s}.batch_rows(NULL, p_ids, p_types, p_versions, p_times, p_data, p_metadata) AS b
    ORDER BY b.ord
    RETURNING global_position, stream_version
  )
  SELECT array_agg(ins.global_position ORDER BY ins.stream_version) INTO v_positions FROM ins;
  v_current := v_current + cardinality(v_positions);
  INSERT INTO ${s}.streams AS st (stream_id, version, last_tx) VALUES (p_stream, v_current, pg_current_xact_id())
  ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_tx = excluded.last_tx, updated_at = now();
  PERFORM pg_notify('${n.channel}', '');
  RETURN QUERY SELECT v_current, pg_current_xact_id(), v_positions;
END
$fn$;

-- The recorder's append: each event to its own stream (p_streams[i] for element i), no version
-- check, events whose id is stored already (or repeated in the batch) skipped, one statement.
-- The streams' advisory locks are taken in key order (no deadlock between overlapping batches)
-- before anything is written. Equal ids mean equal streams, so once the locks are held the
-- NOT EXISTS check sees every earlier copy of an id and concurrent replicas never store one twice.
CREATE OR REPLACE FUNCTION ${s}.append_idempotent(
  p_streams text[], p_ids uuid[], p_types text[], p_versions integer[], p_times text[], p_data json, p_metadata json)
RETURNS TABLE (o_appended integer, o_tx xid8)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_key integer;
  v_appended integer;
BEGIN
  FOR v_key IN SELECT DISTINCT hashtext(x) FROM unnest(p_streams) AS x ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(${lockClass(n)}, v_key);
  END LOOP;
  IF EXISTS (SELECT 1 FROM ${s}.streams st WHERE st.stream_id = ANY (p_streams) AND st.last_tx > pg_current_xact_id_if_assigned()) THEN
    RAISE EXCEPTION 'a younger transaction appended to one of these streams first' USING ERRCODE = '${ORDERING_SQLSTATE}';
  END IF;

  WITH firsts AS (
    SELECT DISTINCT ON (b.id) b.*
    FROM ${s}.batch_rows(p_streams, p_ids, p_types, p_versions, p_times, p_data, p_metadata) AS b
    ORDER BY b.id, b.ord
  ), fresh AS (
    SELECT f.*, coalesce(st.version, -1) + row_number() OVER (PARTITION BY f.sid COLLATE "C" ORDER BY f.ord) AS v
    FROM firsts f LEFT JOIN ${s}.streams st ON st.stream_id = f.sid
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.events x WHERE x.event_id = f.id)
  ), ins AS (
    INSERT INTO ${s}.events (stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
    SELECT f.sid, f.v, f.id, f.type, f.version, f.time, f.data, f.metadata
    FROM fresh f
    ORDER BY f.ord
    RETURNING 1
  ), bump AS (
    INSERT INTO ${s}.streams AS st (stream_id, version, last_tx)
    SELECT f.sid, max(f.v), pg_current_xact_id() FROM fresh f GROUP BY f.sid
    ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, last_tx = excluded.last_tx, updated_at = now()
  )
  SELECT count(*)::integer INTO v_appended FROM ins;

  IF v_appended > 0 THEN
    PERFORM pg_notify('${n.channel}', '');
  END IF;
  RETURN QUERY SELECT v_appended, pg_current_xact_id_if_assigned();
END
$fn$;
`;
}
