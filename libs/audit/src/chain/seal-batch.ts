import { sql, type Kysely } from 'kysely';
import type { OpsTables } from '../db/connect.ts';
import { OPS_SCHEMA } from '../db/schemas.ts';
import { unnestInsert, type ColumnSpec } from '../projection/unnest-insert.ts';
import { chainHash, eventHash, GENESIS_CHAIN_HASH } from './hash.ts';
import { signCheckpoint, type ChainSigningKey } from './signing-key.ts';

/** An event as the sealer receives it from the event store. */
export interface SealableEvent {
  readonly event: unknown;
  readonly streamId: string;
  readonly streamVersion: bigint;
  readonly checkpoint: string;
}

/** The last sealed position and its chain hash (position 0 and the genesis hash before any event). */
export interface ChainHead {
  position: bigint;
  chainHash: string;
}

/** One row of `audit_ops.chain`. */
export interface ChainRow {
  position: string;
  event_id: string;
  event_type: string;
  event_time: string;
  stream_id: string;
  stream_position: string;
  store_checkpoint: string;
  event_hash: string;
  prev_chain_hash: string;
  chain_hash: string;
}

const chainColumns: readonly ColumnSpec[] = [
  { name: 'position', type: 'bigint' },
  { name: 'event_id', type: 'uuid' },
  { name: 'event_type', type: 'text' },
  { name: 'event_time', type: 'timestamptz' },
  { name: 'stream_id', type: 'text' },
  { name: 'stream_position', type: 'bigint' },
  { name: 'store_checkpoint', type: 'text' },
  { name: 'event_hash', type: 'text' },
  { name: 'prev_chain_hash', type: 'text' },
  { name: 'chain_hash', type: 'text' },
];

function field(event: unknown, name: string): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[name] : undefined;
}

/** Chains `events` onto `head`, in order. Pure: the same events after the same head give the same rows. */
export function chainRows(head: ChainHead, events: readonly SealableEvent[]): ChainRow[] {
  let position = head.position;
  let prev = head.chainHash;
  return events.map((e) => {
    position += 1n;
    const hash = eventHash(e);
    const next = chainHash(prev, hash);
    const time = field(e.event, 'time');
    const row: ChainRow = {
      position: position.toString(),
      event_id: String(field(e.event, 'id')),
      event_type: String(field(e.event, 'type')),
      // Searching by time is a convenience; the hash covers the stored time whatever it is.
      event_time: typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? time : new Date(0).toISOString(),
      stream_id: e.streamId,
      stream_position: e.streamVersion.toString(),
      store_checkpoint: e.checkpoint,
      event_hash: hash,
      prev_chain_hash: prev,
      chain_hash: next,
    };
    prev = next;
    return row;
  });
}

/** The sealed head, read inside the caller's transaction. */
export async function loadChainHead(db: Kysely<OpsTables>): Promise<ChainHead> {
  const row = await db.selectFrom('chain').select(['position', 'chain_hash']).orderBy('position', 'desc').limit(1).executeTakeFirst();
  return row ? { position: BigInt(row.position), chainHash: row.chain_hash } : { position: 0n, chainHash: GENESIS_CHAIN_HASH };
}

/** When the sealer signs the head. */
export interface SigningPolicy {
  key: ChainSigningKey;
  /** Sign when this many events were sealed since the last signature (default 10,000). */
  everyEvents?: number;
  /** ...or when the last signature is older than this and something new was sealed (default 60 s). */
  everyMs?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface SealResult {
  head: ChainHead;
  sealed: number;
  signedPosition: bigint | null;
}

/**
 * Seals a batch inside the caller's transaction (the same one that saves the sealer's
 * checkpoint): appends one chain row per event after the current head and, when the policy says
 * so, an Ed25519 signature of the new head.
 */
export async function sealBatch(db: Kysely<OpsTables>, events: readonly SealableEvent[], policy: SigningPolicy | null): Promise<SealResult> {
  const head = await loadChainHead(db);
  const rows = chainRows(head, events);
  await unnestInsert(db, OPS_SCHEMA, 'chain', chainColumns, rows as unknown as Record<string, unknown>[]);
  const last = rows.at(-1);
  const newHead = last ? { position: BigInt(last.position), chainHash: last.chain_hash } : head;
  let signedPosition: bigint | null = null;
  if (policy && last) {
    const now = (policy.now ?? (() => new Date()))();
    const lastSig = await db.selectFrom('chain_signatures').select(['position', 'signed_at']).orderBy('position', 'desc').limit(1).executeTakeFirst();
    const since = newHead.position - (lastSig ? BigInt(lastSig.position) : 0n);
    const age = lastSig ? now.getTime() - Date.parse(lastSig.signed_at) : Number.POSITIVE_INFINITY;
    if (since >= BigInt(policy.everyEvents ?? 10_000) || age >= (policy.everyMs ?? 60_000)) {
      await signHead(db, policy.key, newHead, now);
      signedPosition = newHead.position;
    }
  }
  return { head: newHead, sealed: rows.length, signedPosition };
}

/** Signs `head` now (the sealer also does this when it stops, so a clean shutdown leaves no unsigned tail). */
export async function signHead(db: Kysely<OpsTables>, key: ChainSigningKey, head: ChainHead, now: Date = new Date()): Promise<void> {
  if (head.position === 0n) return;
  await db
    .insertInto('chain_signatures')
    .values({
      position: head.position.toString(),
      chain_hash: head.chainHash,
      key_id: key.keyId,
      signature: signCheckpoint(key, head.position, head.chainHash),
      signed_at: now.toISOString(),
    })
    .onConflict((oc) => oc.column('position').doNothing())
    .execute();
}

/** How many events are sealed (the head position). */
export async function chainLength(db: Kysely<OpsTables>): Promise<bigint> {
  const { rows } = await sql<{ n: string | null }>`SELECT max(position)::text AS n FROM ${sql.id(OPS_SCHEMA, 'chain')}`.execute(db);
  return BigInt(rows[0]?.n ?? '0');
}
