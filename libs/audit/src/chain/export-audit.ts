import { sql, type Kysely } from 'kysely';
import type { OpsTables } from '../db/connect.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';
import { GENESIS_CHAIN_HASH } from './hash.ts';
import type { SealableEvent } from './seal-batch.ts';
import type { ChainSource } from './verify-chain.ts';
import { publicKeyBase64, type TrustedKey } from './signing-key.ts';

/** The export formats. Both carry the same records; CSV puts the event and header as JSON cells. */
export type ExportFormat = 'jsonl' | 'csv';

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'record',
  'position',
  'event_id',
  'event_type',
  'event_time',
  'stream_id',
  'stream_version',
  'event_hash',
  'prev_chain_hash',
  'chain_hash',
  'key_id',
  'signature',
  'json',
] as const;

/** First record of an export: what it covers and how to check it. */
export interface ExportHeader {
  record: 'header';
  format: 'tameflare.audit.export';
  version: 1;
  since: string | null;
  until: string | null;
  /** The contiguous range of sealed positions exported (every event between the first and last in range). */
  firstPosition: string;
  lastPosition: string;
  /** Chain hash before `firstPosition` (the genesis hash when it is 1). */
  prevChainHash: string;
  /** Public keys of the signatures in the export (base64 SPKI DER); a verifier should pin the key id it trusts. */
  keys: { keyId: string; publicKey: string }[];
  hashing: { event: string; chain: string; signature: string };
}

export interface ExportEventRecord {
  record: 'event';
  position: string;
  eventId: string;
  eventType: string;
  streamId: string;
  streamVersion: string;
  eventHash: string;
  prevChainHash: string;
  chainHash: string;
  /**
   * The envelope the event store holds at this position now, with its stream and version (null if
   * the store has no event there). The hashes are the sealed ones, so an offline verifier sees any
   * difference between the two.
   */
  event: unknown;
}

export interface ExportSignatureRecord {
  record: 'signature';
  position: string;
  chainHash: string;
  keyId: string;
  signature: string;
  signedAt: string;
}

export interface ExportEndRecord {
  record: 'end';
  events: number;
  signatures: number;
  lastPosition: string;
  lastChainHash: string;
}

export type ExportRecord = ExportHeader | ExportEventRecord | ExportSignatureRecord | ExportEndRecord;

export interface ExportAuditOptions {
  store: ChainSource;
  /** Scoped to `audit_ops`. */
  db: Kysely<OpsTables>;
  format: ExportFormat;
  /** Inclusive lower bound on event time (ISO 8601). */
  since?: string | null;
  /** Exclusive upper bound on event time (ISO 8601). */
  until?: string | null;
  /** Public keys to list in the header (normally the sealer's). */
  keys?: readonly TrustedKey[];
  pageSize?: number;
}

function parseTime(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AuditError(AuditErrorCode.InvalidExport, `--${name} is not a date or time: ${JSON.stringify(value.slice(0, 50))}`);
  return new Date(ms).toISOString();
}

/** Quotes a CSV cell when it must be (RFC 4180). */
export function csvCell(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(r: ExportRecord): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string | null> = {
    record: r.record,
    position: null,
    event_id: null,
    event_type: null,
    event_time: null,
    stream_id: null,
    stream_version: null,
    event_hash: null,
    prev_chain_hash: null,
    chain_hash: null,
    key_id: null,
    signature: null,
    json: null,
  };
  if (r.record === 'event') {
    const time = (r.event as { time?: unknown } | null)?.time;
    Object.assign(cells, {
      position: r.position,
      event_id: r.eventId,
      event_type: r.eventType,
      event_time: typeof time === 'string' ? time : null,
      stream_id: r.streamId,
      stream_version: r.streamVersion,
      event_hash: r.eventHash,
      prev_chain_hash: r.prevChainHash,
      chain_hash: r.chainHash,
      json: JSON.stringify(r.event),
    });
  } else if (r.record === 'signature') {
    Object.assign(cells, { position: r.position, chain_hash: r.chainHash, key_id: r.keyId, signature: r.signature, event_time: r.signedAt });
  } else {
    cells.json = JSON.stringify(r);
    if (r.record === 'end') Object.assign(cells, { position: r.lastPosition, chain_hash: r.lastChainHash });
  }
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',') + '\n';
}

/** One export record as a line of the format. */
export function formatRecord(format: ExportFormat, r: ExportRecord): string {
  return format === 'jsonl' ? JSON.stringify(r) + '\n' : csvLine(r);
}

/**
 * Streams a compliance export: a header, every sealed event whose position lies between the first
 * and the last event in `[since, until)` with its chain data and the envelope the store holds
 * now, the signed checkpoints in that range, and an end record. {@link verifyExport} checks the
 * result offline. Memory use is one page, whatever the size of the range.
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_EXPORT` for an unknown format or an unparseable or inverted range.
 */
export async function* exportAudit(options: ExportAuditOptions): AsyncGenerator<string> {
  const { db, format } = options;
  if (format !== 'jsonl' && format !== 'csv') {
    throw new AuditError(AuditErrorCode.InvalidExport, `unknown export format ${JSON.stringify(String(format))}: use jsonl or csv`);
  }
  const since = parseTime('since', options.since);
  const until = parseTime('until', options.until);
  if (since && until && since >= until) throw new AuditError(AuditErrorCode.InvalidExport, `--since (${since}) must be before --until (${until})`);
  const pageSize = options.pageSize ?? 2000;

  const bounds = await sql<{ first: string | null; last: string | null }>`
    SELECT
      (SELECT min(position)::text FROM ${sql.id('audit_ops', 'chain')} WHERE ${since ? sql`event_time >= ${since}` : sql`true`}) AS first,
      (SELECT max(position)::text FROM ${sql.id('audit_ops', 'chain')} WHERE ${until ? sql`event_time < ${until}` : sql`true`}) AS last`.execute(db);
  const first = BigInt(bounds.rows[0]?.first ?? '0');
  const last = BigInt(bounds.rows[0]?.last ?? '0');
  const empty = first === 0n || last === 0n || first > last;

  const before = empty || first === 1n ? null : await db.selectFrom('chain').select(['store_checkpoint', 'chain_hash']).where('position', '=', (first - 1n).toString()).executeTakeFirst();
  const header: ExportHeader = {
    record: 'header',
    format: 'tameflare.audit.export',
    version: 1,
    since,
    until,
    firstPosition: empty ? '0' : first.toString(),
    lastPosition: empty ? '0' : last.toString(),
    prevChainHash: before?.chain_hash ?? GENESIS_CHAIN_HASH,
    keys: (options.keys ?? []).map((k) => ({ keyId: k.keyId, publicKey: publicKeyBase64(k.publicKey) })),
    hashing: {
      event: 'sha256(canonicalJson({event, streamId, streamVersion}))',
      chain: 'sha256(bytes(prevChainHash) || bytes(eventHash))',
      signature: 'ed25519(canonicalJson({v:1, kind:"tameflare.audit.chain-checkpoint", position, chainHash, keyId}))',
    },
  };
  if (format === 'csv') yield CSV_COLUMNS.join(',') + '\n';
  yield formatRecord(format, header);

  let events = 0;
  let signatures = 0;
  let lastChainHash = header.prevChainHash;
  if (!empty) {
    let storeAfter: string | null = before?.store_checkpoint ?? null;
    let storePage: SealableEvent[] = [];
    let storeDone = false;
    const nextStoreEvent = async () => {
      if (storePage.length === 0 && !storeDone) {
        storePage = [...(await options.store.readAll({ after: storeAfter, limit: pageSize }))];
        if (storePage.length === 0) storeDone = true;
        else storeAfter = storePage[storePage.length - 1]!.checkpoint;
      }
      return storePage.shift();
    };
    let after = first - 1n;
    while (after < last) {
      const rows = await db
        .selectFrom('chain')
        .selectAll()
        .where('position', '>', after.toString())
        .where('position', '<=', last.toString())
        .orderBy('position')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) break;
      const sigs = await db
        .selectFrom('chain_signatures')
        .selectAll()
        .where('position', '>', after.toString())
        .where('position', '<=', rows[rows.length - 1]!.position)
        .execute();
      const sigAt = new Map(sigs.map((s) => [s.position, s]));
      for (const row of rows) {
        const stored = await nextStoreEvent();
        const rec: ExportEventRecord = {
          record: 'event',
          position: row.position,
          eventId: row.event_id,
          eventType: row.event_type,
          streamId: stored?.streamId ?? row.stream_id,
          streamVersion: stored?.streamVersion.toString() ?? row.stream_position,
          eventHash: row.event_hash,
          prevChainHash: row.prev_chain_hash,
          chainHash: row.chain_hash,
          event: stored?.event ?? null,
        };
        yield formatRecord(format, rec);
        events++;
        lastChainHash = row.chain_hash;
        const s = sigAt.get(row.position);
        if (s) {
          yield formatRecord(format, { record: 'signature', position: s.position, chainHash: s.chain_hash, keyId: s.key_id, signature: s.signature, signedAt: s.signed_at });
          signatures++;
        }
      }
      after = BigInt(rows[rows.length - 1]!.position);
    }
  }
  yield formatRecord(format, { record: 'end', events, signatures, lastPosition: empty ? '0' : last.toString(), lastChainHash });
}
