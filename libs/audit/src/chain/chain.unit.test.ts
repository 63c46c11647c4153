import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { createEventFactory } from '../testing/index.ts';
import { formatRecord, type ExportFormat, type ExportRecord } from './export-audit.ts';
import { chainHash, eventHash, GENESIS_CHAIN_HASH } from './hash.ts';
import { chainRows } from './seal-batch.ts';
import { loadOrCreateSigningKey, loadTrustedKey, publicKeyBase64, signCheckpoint, SIGNING_KEY_FILE, verifyCheckpoint } from './signing-key.ts';
import { verifyExport } from './verify-export.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tf-audit-key-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const f = createEventFactory();
const stored = Array.from({ length: 5 }, () => f.action({ decision: 'allow' })).flat().map((event, i) => ({ event, streamId: `action-${(event.data as { actionId: string }).actionId}`, streamVersion: BigInt(i % 4), checkpoint: `pg:${i}` }));

describe('hash chain', () => {
  it('changes the event hash when the payload, the stream or the slot changes', () => {
    const e = stored[0]!;
    const h = eventHash(e);
    expect(eventHash({ ...e, event: { ...e.event, data: { ...(e.event.data as object), agentId: 'other' } } })).not.toBe(h);
    expect(eventHash({ ...e, streamId: 'action-x' })).not.toBe(h);
    expect(eventHash({ ...e, streamVersion: 7n })).not.toBe(h);
    // Key order does not matter (canonical JSON), so a re-serialised but equal event hashes the same.
    const reordered = Object.fromEntries(Object.entries(e.event).reverse());
    expect(eventHash({ ...e, event: reordered })).toBe(h);
  });

  it('links every row to the one before, the same way whatever the batch split', () => {
    const all = chainRows({ position: 0n, chainHash: GENESIS_CHAIN_HASH }, stored);
    const firstHalf = chainRows({ position: 0n, chainHash: GENESIS_CHAIN_HASH }, stored.slice(0, 7));
    const last = firstHalf.at(-1)!;
    const secondHalf = chainRows({ position: BigInt(last.position), chainHash: last.chain_hash }, stored.slice(7));
    expect([...firstHalf, ...secondHalf]).toEqual(all);
    expect(all[0]!.prev_chain_hash).toBe(GENESIS_CHAIN_HASH);
    for (let i = 1; i < all.length; i++) {
      expect(all[i]!.prev_chain_hash).toBe(all[i - 1]!.chain_hash);
      expect(all[i]!.chain_hash).toBe(chainHash(all[i - 1]!.chain_hash, all[i]!.event_hash));
    }
  });
});

describe('signing key', () => {
  it('creates a 0600 Ed25519 key once and signs checkpoints the public key verifies', () => {
    const dir = tempDir();
    const key = loadOrCreateSigningKey(dir);
    expect(statSync(join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSigningKey(dir).keyId).toBe(key.keyId);
    const trusted = loadTrustedKey(dir);
    expect(trusted.keyId).toBe(key.keyId);
    const signature = signCheckpoint(key, 42n, 'ab'.repeat(32));
    expect(verifyCheckpoint(trusted.publicKey, { position: '42', chainHash: 'ab'.repeat(32), keyId: key.keyId, signature })).toBe(true);
    expect(verifyCheckpoint(trusted.publicKey, { position: '43', chainHash: 'ab'.repeat(32), keyId: key.keyId, signature })).toBe(false);
  });

  it('refuses a key file others can read, and one that is not a key', () => {
    const dir = tempDir();
    loadOrCreateSigningKey(dir);
    chmodSync(join(dir, SIGNING_KEY_FILE), 0o644);
    expect(() => loadOrCreateSigningKey(dir)).toThrow(/readable by others/);
    const other = tempDir();
    writeFileSync(join(other, SIGNING_KEY_FILE), 'not a key', { mode: 0o600 });
    let err: unknown;
    try {
      loadOrCreateSigningKey(other);
    } catch (e) {
      err = e;
    }
    expect(isTameFlareError(err, 'TF_ERR_AUDIT_SIGNING_KEY')).toBe(true);
  });
});

describe('verifyExport (offline)', () => {
  const dir = tempDir();
  const key = loadOrCreateSigningKey(dir);
  const rows = chainRows({ position: 0n, chainHash: GENESIS_CHAIN_HASH }, stored);

  function exportLines(format: ExportFormat): string[] {
    const recs: ExportRecord[] = [
      {
        record: 'header',
        format: 'tameflare.audit.export',
        version: 1,
        since: null,
        until: null,
        firstPosition: '1',
        lastPosition: String(rows.length),
        prevChainHash: GENESIS_CHAIN_HASH,
        keys: [{ keyId: key.keyId, publicKey: publicKeyBase64(key.publicKey) }],
        hashing: { event: '', chain: '', signature: '' },
      },
    ];
    rows.forEach((r, i) => {
      recs.push({
        record: 'event',
        position: r.position,
        eventId: r.event_id,
        eventType: r.event_type,
        streamId: r.stream_id,
        streamVersion: r.stream_position,
        eventHash: r.event_hash,
        prevChainHash: r.prev_chain_hash,
        chainHash: r.chain_hash,
        event: stored[i]!.event,
      });
      if (i === 9) recs.push({ record: 'signature', position: r.position, chainHash: r.chain_hash, keyId: key.keyId, signature: signCheckpoint(key, r.position, r.chain_hash), signedAt: '2026-05-01T12:00:00.000Z' });
    });
    recs.push({ record: 'end', events: rows.length, signatures: 1, lastPosition: String(rows.length), lastChainHash: rows.at(-1)!.chain_hash });
    const lines = recs.map((r) => formatRecord(format, r));
    return format === 'csv' ? ['record,position,event_id,event_type,event_time,stream_id,stream_version,event_hash,prev_chain_hash,chain_hash,key_id,signature,json\n', ...lines] : lines;
  }
  const run = (lines: string[]) => verifyExport((async function* () { yield* lines; })(), { trustedKeys: [loadTrustedKey(dir)] });

  it.each(['jsonl', 'csv'] as const)('accepts an untouched %s export', async (format) => {
    const r = await run(exportLines(format));
    expect(r).toMatchObject({ ok: true, events: rows.length, signaturesVerified: 1, selfAttested: false, problem: null });
  });

  it.each(['jsonl', 'csv'] as const)('names the line of a changed, dropped, swapped or cut %s export', async (format) => {
    const lines = exportLines(format);
    const at = format === 'csv' ? 4 : 3; // the 3rd event record
    const changed = [...lines];
    changed[at] = changed[at]!.replace('gw-main', 'gw-evil');
    expect(changed[at]).not.toBe(lines[at]);
    expect((await run(changed)).problem).toMatchObject({ kind: 'modified', position: '3' });
    const dropped = lines.filter((_, i) => i !== at);
    expect((await run(dropped)).problem).toMatchObject({ kind: 'out_of_order', position: '4' });
    const swapped = [...lines];
    [swapped[at], swapped[at + 1]] = [swapped[at + 1]!, swapped[at]!];
    expect((await run(swapped)).problem).toMatchObject({ kind: 'out_of_order', position: '4' });
    expect((await run(lines.slice(0, -1))).problem).toMatchObject({ kind: 'truncated' });
  });

  it('refuses a signature by a key it does not trust', async () => {
    const strangerDir = tempDir();
    loadOrCreateSigningKey(strangerDir);
    const stranger = loadTrustedKey(strangerDir);
    const r = await verifyExport((async function* () { yield* exportLines('jsonl'); })(), { trustedKeys: [stranger] });
    expect(r.problem).toMatchObject({ kind: 'signature_invalid', position: '10' });
  });
});
