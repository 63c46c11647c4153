import { sql, type Kysely } from 'kysely';

/**
 * The audit chain and the projector's status. Kept apart from the read models because a replay
 * rebuilds those from the event store, while the chain must never be rebuilt from a store that
 * may have been altered: it is the record the store is checked against.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE TABLE chain (
  position bigint PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  event_time timestamptz NOT NULL,
  stream_id text NOT NULL,
  stream_position bigint NOT NULL,
  store_checkpoint text NOT NULL,
  event_hash text NOT NULL,
  prev_chain_hash text NOT NULL,
  chain_hash text NOT NULL
);
CREATE INDEX chain_by_time ON chain (event_time, position);

-- Ed25519 signatures over the chain head, every N events or T seconds.
CREATE TABLE chain_signatures (
  position bigint PRIMARY KEY REFERENCES chain (position),
  chain_hash text NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL,
  signed_at timestamptz NOT NULL
);

-- The generation of the live read models: a replay bumps it when it swaps a rebuilt schema in, and
-- the projector checks it (FOR SHARE) in every batch, so no batch lands in a schema swapped out.
CREATE TABLE read_model_state (
  id integer PRIMARY KEY CHECK (id = 1),
  generation bigint NOT NULL
);
INSERT INTO read_model_state (id, generation) VALUES (1, 1);

-- One row per processor (read models, chain): what it is doing and, if it stopped, on which event.
CREATE TABLE processor_status (
  processor_id text PRIMARY KEY,
  state text NOT NULL,
  instance_id text NOT NULL,
  checkpoint text,
  events_applied bigint NOT NULL DEFAULT 0,
  last_event_time timestamptz,
  failed_event_id text,
  failed_event_type text,
  failed_checkpoint text,
  error_code text,
  error_message text,
  updated_at timestamptz NOT NULL
);
`.execute(db);
}
