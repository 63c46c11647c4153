import { EventStoreError, EventStoreErrorCode } from './errors.ts';
import type { Checkpoint } from './types.ts';

const U64 = 20;
const pad = (n: bigint) => n.toString().padStart(U64, '0');
const PG_RE = /^pg:(\d{20}):(\d{20})$/;
const KDB_RE = /^kdb:(\d{20}):(\d{20})$/;

/** Both parts zero-padded, so that string order is log order within one store. */
export function encodePostgresCheckpoint(transactionId: bigint, globalPosition: bigint): Checkpoint {
  return `pg:${pad(transactionId)}:${pad(globalPosition)}`;
}

/** @throws EventStoreError (`TF_ERR_STORE_BAD_CHECKPOINT`) for anything the PostgreSQL adapter did not produce. */
export function decodePostgresCheckpoint(checkpoint: Checkpoint): { transactionId: bigint; globalPosition: bigint } {
  const m = PG_RE.exec(checkpoint);
  if (!m) throw badCheckpoint(checkpoint, 'PostgreSQL');
  return { transactionId: BigInt(m[1]!), globalPosition: BigInt(m[2]!) };
}

export function encodeKurrentDbCheckpoint(commit: bigint, prepare: bigint): Checkpoint {
  return `kdb:${pad(commit)}:${pad(prepare)}`;
}

/** @throws EventStoreError (`TF_ERR_STORE_BAD_CHECKPOINT`) for anything the KurrentDB adapter did not produce. */
export function decodeKurrentDbCheckpoint(checkpoint: Checkpoint): { commit: bigint; prepare: bigint } {
  const m = KDB_RE.exec(checkpoint);
  if (!m) throw badCheckpoint(checkpoint, 'KurrentDB');
  return { commit: BigInt(m[1]!), prepare: BigInt(m[2]!) };
}

/** Orders two checkpoints of the same store: negative when `a` comes first. `null` is the start of the log. */
export function compareCheckpoints(a: Checkpoint | null, b: Checkpoint | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function badCheckpoint(checkpoint: string, store: string): EventStoreError {
  return new EventStoreError(EventStoreErrorCode.BadCheckpoint, `not a ${store} event store checkpoint: ${JSON.stringify(checkpoint.slice(0, 80))}`, {
    details: { checkpoint: checkpoint.slice(0, 80) },
  });
}
