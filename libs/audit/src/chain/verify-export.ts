import { AuditError, AuditErrorCode } from '../errors.ts';
import { CSV_COLUMNS, type ExportEndRecord, type ExportEventRecord, type ExportHeader, type ExportRecord, type ExportSignatureRecord } from './export-audit.ts';
import { chainHash, eventHash } from './hash.ts';
import { trustedKeyFrom, verifyCheckpoint, type TrustedKey } from './signing-key.ts';

export type ExportProblemKind = 'malformed' | 'modified' | 'chain_altered' | 'out_of_order' | 'signature_invalid' | 'signature_mismatch' | 'truncated';

export interface ExportVerifyReport {
  ok: boolean;
  format: 'jsonl' | 'csv' | null;
  header: ExportHeader | null;
  events: number;
  /** Signatures that verified with a trusted key. */
  signaturesVerified: number;
  /** True when no trusted key was given and the keys listed in the export itself were used. */
  selfAttested: boolean;
  lastVerifiedPosition: string | null;
  problem: { kind: ExportProblemKind; line: number; position: string | null; message: string } | null;
}

/** Splits one CSV line (RFC 4180 quoting; the export never puts a raw newline inside a cell). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted cell');
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(c < 0 ? line.slice(i) : line.slice(i, c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    if (line[i] !== ',') throw new Error(`unexpected character at ${i}`);
    i++;
  }
}

function fromCsv(cells: string[]): ExportRecord {
  const c = Object.fromEntries(CSV_COLUMNS.map((name, i) => [name, cells[i] ?? ''])) as Record<(typeof CSV_COLUMNS)[number], string>;
  switch (c.record) {
    case 'header':
    case 'end':
      return JSON.parse(c.json) as ExportHeader | ExportEndRecord;
    case 'event':
      return {
        record: 'event',
        position: c.position,
        eventId: c.event_id,
        eventType: c.event_type,
        streamId: c.stream_id,
        streamVersion: c.stream_version,
        eventHash: c.event_hash,
        prevChainHash: c.prev_chain_hash,
        chainHash: c.chain_hash,
        event: JSON.parse(c.json),
      };
    case 'signature':
      return { record: 'signature', position: c.position, chainHash: c.chain_hash, keyId: c.key_id, signature: c.signature, signedAt: c.event_time };
    default:
      throw new Error(`unknown record type ${JSON.stringify(c.record)}`);
  }
}

async function* lines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest;
}

/**
 * Checks an export from {@link exportAudit} with nothing but the file (and, ideally, the public
 * key you trust): every event's hash is recomputed from the envelope it carries, every chain link
 * from the one before, every signature against the trusted keys, and the end record against what
 * was read, so a changed, dropped, added or reordered line is found and named by line and position.
 */
export async function verifyExport(input: AsyncIterable<string | Uint8Array>, options: { trustedKeys?: readonly TrustedKey[] } = {}): Promise<ExportVerifyReport> {
  const report: ExportVerifyReport = {
    ok: false,
    format: null,
    header: null,
    events: 0,
    signaturesVerified: 0,
    selfAttested: false,
    lastVerifiedPosition: null,
    problem: null,
  };
  const fail = (kind: ExportProblemKind, line: number, position: string | null, message: string) => {
    report.problem = { kind, line, position, message };
    return report;
  };
  let keys = new Map((options.trustedKeys ?? []).map((k) => [k.keyId, k]));
  let prev = '';
  let expected = 0n;
  let signatures = 0;
  let ended = false;
  let n = 0;
  for await (const line of lines(input)) {
    n++;
    if (line === '') continue;
    if (ended) return fail('malformed', n, null, 'content after the end record');
    if (report.format === null) {
      report.format = line.startsWith('{') ? 'jsonl' : 'csv';
      if (report.format === 'csv') {
        if (line !== CSV_COLUMNS.join(',')) return fail('malformed', n, null, 'not a TameFlare audit export (unknown CSV columns)');
        continue;
      }
    }
    let rec: ExportRecord;
    try {
      rec = report.format === 'jsonl' ? (JSON.parse(line) as ExportRecord) : fromCsv(parseCsvLine(line));
    } catch (err) {
      return fail('malformed', n, null, `line ${n} is not a valid record: ${(err as Error).message}`);
    }
    if (report.header === null) {
      if (rec.record !== 'header' || rec.format !== 'tameflare.audit.export' || rec.version !== 1) {
        return fail('malformed', n, null, 'the export does not start with a version 1 TameFlare header');
      }
      report.header = rec;
      prev = rec.prevChainHash;
      expected = BigInt(rec.firstPosition);
      if (keys.size === 0) {
        try {
          keys = new Map(rec.keys.map((k) => trustedKeyFrom(k.publicKey)).map((k): [string, TrustedKey] => [k.keyId, k]));
        } catch (err) {
          return fail('malformed', n, null, (err as Error).message);
        }
        report.selfAttested = true;
      }
      continue;
    }
    if (rec.record === 'event') {
      const e = rec as ExportEventRecord;
      if (e.position !== expected.toString()) return fail('out_of_order', n, e.position, `expected position ${expected}, found ${e.position}: a line was removed, added or moved`);
      const hash = eventHash({ event: e.event, streamId: e.streamId, streamVersion: e.streamVersion });
      if (hash !== e.eventHash) return fail('modified', n, e.position, `event ${e.eventId} at position ${e.position} does not match its sealed hash`);
      if (e.prevChainHash !== prev || chainHash(prev, e.eventHash) !== e.chainHash) {
        return fail('chain_altered', n, e.position, `the chain breaks at position ${e.position}`);
      }
      prev = e.chainHash;
      expected++;
      report.events++;
    } else if (rec.record === 'signature') {
      const s = rec as ExportSignatureRecord;
      const key = keys.get(s.keyId);
      if (!key || !verifyCheckpoint(key.publicKey, s)) return fail('signature_invalid', n, s.position, `the checkpoint signature at position ${s.position} does not verify${key ? '' : ` (key ${s.keyId} is not trusted)`}`);
      if (s.position !== (expected - 1n).toString() || s.chainHash !== prev) {
        return fail('signature_mismatch', n, s.position, `the signed checkpoint at position ${s.position} does not match the chain`);
      }
      signatures++;
      report.signaturesVerified++;
      report.lastVerifiedPosition = s.position;
    } else if (rec.record === 'end') {
      const end = rec as ExportEndRecord;
      if (end.events !== report.events || end.signatures !== signatures || end.lastChainHash !== prev) {
        return fail('truncated', n, end.lastPosition, `the end record says ${end.events} events and ${end.signatures} signatures, the file holds ${report.events} and ${signatures}`);
      }
      ended = true;
    } else {
      return fail('malformed', n, null, `unexpected ${rec.record} record`);
    }
  }
  if (!report.header) return fail('malformed', n, null, 'empty export');
  if (!ended) return fail('truncated', n, null, 'the export has no end record: it was cut short');
  report.ok = true;
  return report;
}

/** Reads trusted keys given as PEM or base64 text (for `tf audit verify --public-key`). */
export function parseTrustedKeys(texts: readonly string[]): TrustedKey[] {
  if (texts.length === 0) throw new AuditError(AuditErrorCode.SigningKey, 'no public key given');
  return texts.map(trustedKeyFrom);
}
