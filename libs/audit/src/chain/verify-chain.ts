import type { Kysely } from 'kysely';
import type { OpsTables } from '../db/connect.ts';
import { chainHash, eventHash, GENESIS_CHAIN_HASH } from './hash.ts';
import { lookahead } from './lookahead.ts';
import type { SealableEvent } from './seal-batch.ts';
import { verifyCheckpoint, type TrustedKey } from './signing-key.ts';

/** The one call of the event store that verification needs (the `EventStore` port satisfies it). */
export interface ChainSource {
  readAll(options: { after: string | null; limit: number }): Promise<readonly SealableEvent[]>;
}

/** What went wrong first. Positions are 1-based positions in the sealed global log. */
export type VerifyProblemKind =
  /** The event at this position is still there but its content (payload, type, time, stream) changed. */
  | 'modified'
  /** The event sealed at this position is gone from the store. */
  | 'deleted'
  /** The store holds an event at this position that was never sealed. */
  | 'inserted'
  /** The store holds the sealed events in another order from this position on. */
  | 'reordered'
  /** A chain row does not follow from the one before it: the chain table itself was edited. */
  | 'chain_altered'
  /** The chain table is shorter than a signed checkpoint says it was. */
  | 'chain_truncated'
  /** A checkpoint signature does not verify with the trusted key it names. */
  | 'signature_invalid'
  /** Events and chain rows agree, but not with a signed checkpoint: both were rewritten after it was signed. */
  | 'rewritten';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** The first bad position (for `rewritten`: the signed position that no longer matches). */
  position: string;
  /** For `rewritten`: the first position that may have been rewritten (the one after the last good signature). */
  fromPosition?: string;
  eventId: string | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Sealed events compared with the store. */
  checked: number;
  /** The sealed head (position 0 before anything was sealed). */
  head: { position: string; chainHash: string };
  /** Signed checkpoints that verified with a trusted key, and the last such position. */
  signatures: { verified: number; untrusted: number; lastVerifiedPosition: string | null };
  /** Sealed events after the last verified signature: protected by the chain alone until the next signature. */
  unsignedEvents: number;
  /** Events in the store after the sealed head (not sealed yet, so not checked). */
  unsealedEvents: number;
  problem: VerifyProblem | null;
}

export interface VerifyChainOptions {
  store: ChainSource;
  /** Scoped to `audit_ops`. */
  db: Kysely<OpsTables>;
  /** Keys whose signatures count. Signatures by any other key are counted as untrusted. */
  trustedKeys: readonly TrustedKey[];
  pageSize?: number;
  /** How far ahead to look in the store to tell a moved event from a deleted one (default 256). */
  window?: number;
  onProgress?: (checked: number) => void;
}

async function* storeEvents(store: ChainSource, pageSize: number): AsyncGenerator<SealableEvent> {
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    if (page.length === 0) return;
    yield* page;
    after = page[page.length - 1]!.checkpoint;
  }
}

async function* sealedRows(db: Kysely<OpsTables>, pageSize: number) {
  let after = '0';
  for (;;) {
    const page = await db
      .selectFrom('chain')
      .select(['position', 'event_id', 'event_hash', 'prev_chain_hash', 'chain_hash'])
      .where('position', '>', after)
      .orderBy('position')
      .limit(pageSize)
      .execute();
    if (page.length === 0) return;
    yield* page;
    after = page[page.length - 1]!.position;
  }
}

const idOf = (e: SealableEvent | undefined): string | null => {
  const id = e && typeof e.event === 'object' && e.event !== null ? (e.event as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : null;
};

/**
 * Recomputes the chain from the event store and compares it with the sealed chain and its signed
 * checkpoints, streaming both in log order. Stops at the first problem and names its position
 * and kind; events appended after the sealed head are counted, not checked.
 */
export async function verifyChain(options: VerifyChainOptions): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 5000;
  const window = options.window ?? 256;
  const { db } = options;
  const trusted = new Map(options.trustedKeys.map((k) => [k.keyId, k.publicKey]));
  const signatures = new Map(
    (await db.selectFrom('chain_signatures').selectAll().orderBy('position').execute()).map((s) => [s.position, s]),
  );
  const store = lookahead(storeEvents(options.store, pageSize));
  const chain = lookahead(sealedRows(db, pageSize));

  let prev = GENESIS_CHAIN_HASH;
  let position = 0n;
  let checked = 0;
  let verified = 0;
  let untrusted = 0;
  let lastVerified: bigint | null = null;
  let problem: VerifyProblem | null = null;

  const report = async (): Promise<VerifyReport> => {
    let unsealed = 0;
    if (!problem) while (await store.shift()) unsealed++;
    return {
      ok: problem === null,
      checked,
      head: { position: position.toString(), chainHash: prev },
      signatures: { verified, untrusted, lastVerifiedPosition: lastVerified?.toString() ?? null },
      unsignedEvents: Number(position - (lastVerified ?? 0n)),
      unsealedEvents: unsealed,
      problem,
    };
  };

  for (;;) {
    const row = await chain.shift();
    if (!row) break;
    const at = BigInt(row.position);
    if (at !== position + 1n || row.prev_chain_hash !== prev || chainHash(prev, row.event_hash) !== row.chain_hash) {
      problem = {
        kind: 'chain_altered',
        position: (position + 1n).toString(),
        eventId: row.event_id,
        message: `chain row ${row.position} does not follow from position ${position}: the chain table was edited`,
      };
      return report();
    }
    const ev = await store.at(0);
    const evId = idOf(ev);
    if (evId !== row.event_id) {
      problem = await classify(row, ev, evId);
      return report();
    }
    const hash = eventHash(ev!);
    if (hash !== row.event_hash) {
      problem = {
        kind: 'modified',
        position: row.position,
        eventId: row.event_id,
        message: `event ${row.event_id} at position ${row.position} was modified: its hash is ${hash}, sealed ${row.event_hash}`,
      };
      return report();
    }
    await store.shift();
    position = at;
    prev = row.chain_hash;
    checked++;
    const sig = signatures.get(row.position);
    if (sig) {
      const key = trusted.get(sig.key_id);
      if (!key) untrusted++;
      else if (!verifyCheckpoint(key, { position: sig.position, chainHash: sig.chain_hash, keyId: sig.key_id, signature: sig.signature })) {
        problem = { kind: 'signature_invalid', position: sig.position, eventId: row.event_id, message: `the signature of the checkpoint at position ${sig.position} does not verify with key ${sig.key_id}` };
        return report();
      } else if (sig.chain_hash !== prev) {
        problem = {
          kind: 'rewritten',
          position: sig.position,
          fromPosition: ((lastVerified ?? 0n) + 1n).toString(),
          eventId: row.event_id,
          message: `the chain at position ${sig.position} no longer matches its signed checkpoint: events and chain rows between positions ${(lastVerified ?? 0n) + 1n} and ${sig.position} were rewritten`,
        };
        return report();
      } else {
        verified++;
        lastVerified = at;
      }
    }
    if (checked % 100_000 === 0) options.onProgress?.(checked);
  }

  const beyond = [...signatures.keys()].map(BigInt).filter((p) => p > position);
  if (beyond.length > 0) {
    problem = {
      kind: 'chain_truncated',
      position: (position + 1n).toString(),
      eventId: null,
      message: `a checkpoint was signed at position ${beyond[0]} but the chain ends at ${position}: sealed rows were deleted`,
    };
  }
  options.onProgress?.(checked);
  return report();

  async function classify(row: { position: string; event_id: string }, ev: SealableEvent | undefined, evId: string | null): Promise<VerifyProblem> {
    if (!ev) {
      return { kind: 'deleted', position: row.position, eventId: row.event_id, message: `event ${row.event_id} sealed at position ${row.position} is missing: the store ends before it` };
    }
    const sealedAt = evId
      ? await db.selectFrom('chain').select('position').where('event_id', '=', evId).executeTakeFirst()
      : undefined;
    if (!sealedAt) {
      return {
        kind: 'inserted',
        position: row.position,
        eventId: evId,
        message: `event ${evId ?? '(no id)'} at position ${row.position} was never sealed: it was inserted before sealed event ${row.event_id}`,
      };
    }
    for (let i = 1; i <= window; i++) {
      const later = await store.at(i);
      if (!later) break;
      if (idOf(later) === row.event_id) {
        return {
          kind: 'reordered',
          position: row.position,
          eventId: row.event_id,
          message: `the store order changed at position ${row.position}: it holds event ${evId} (sealed at ${sealedAt.position}) where ${row.event_id} was sealed`,
        };
      }
    }
    return {
      kind: 'deleted',
      position: row.position,
      eventId: row.event_id,
      message: `event ${row.event_id} sealed at position ${row.position} is missing from the store (not within the next ${window} positions either)`,
    };
  }
}
