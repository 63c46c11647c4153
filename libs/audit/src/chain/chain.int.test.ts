import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@tameflare/event-store';
import { createEventFactory } from '../testing/index.ts';
import { createAuditTestEnv, caughtUp, type AuditTestEnv } from '../test/setup.ts';
import { runChainSealer } from '../projection/run-processors.ts';
import { exportAudit } from './export-audit.ts';
import { chainHash, eventHash } from './hash.ts';
import { loadOrCreateSigningKey, loadTrustedKey, type ChainSigningKey, type TrustedKey } from './signing-key.ts';
import { verifyChain } from './verify-chain.ts';
import { verifyExport } from './verify-export.ts';

describe('the audit chain against direct edits of the event store', () => {
  let env: AuditTestEnv;
  let stateDir: string;
  let key: ChainSigningKey;
  let trusted: TrustedKey;
  let history: RecordedEvent[];

  const verify = () => verifyChain({ store: env.store, db: env.ops, trustedKeys: [trusted], pageSize: 17 });
  const row = async (eventId: string) =>
    (await env.pool.query(`SELECT transaction_id::text AS tx, global_position::text AS gp, stream_id, stream_version, data::text AS data FROM tf_events.events WHERE event_id = $1`, [eventId])).rows[0] as {
      tx: string;
      gp: string;
      stream_id: string;
      stream_version: string;
      data: string;
    };
  const idAt = (position: number) => history[position - 1]!.event.id;
  const signedPositions = async () => (await env.ops.selectFrom('chain_signatures').select('position').orderBy('position').execute()).map((r) => Number(r.position));

  beforeAll(async () => {
    env = await createAuditTestEnv('audit_chain');
    stateDir = mkdtempSync(join(tmpdir(), 'tf-audit-state-'));
    key = loadOrCreateSigningKey(stateDir);
    trusted = loadTrustedKey(stateDir);
    const f = createEventFactory({ seed: 11 });
    for (let i = 0; i < 40; i++) await env.record(f.action());
    let current: string | null = null;
    const ctl = new AbortController();
    const sealing = runChainSealer({
      pool: env.pool,
      store: env.store,
      checkpoints: env.store.processors,
      signal: ctl.signal,
      batchSize: 13,
      signing: { key, everyEvents: 20, everyMs: 3_600_000 },
      onApplied: (b) => (current = b.checkpoint),
    });
    await caughtUp(env, () => current);
    ctl.abort();
    await sealing;
    history = await env.store.readAll({ after: null, limit: 10_000 });
  });
  afterAll(async () => {
    rmSync(stateDir, { recursive: true, force: true });
    await env?.dispose();
  });

  it('verifies an untouched history, with a signature at the head', async () => {
    const r = await verify();
    expect(r).toMatchObject({ ok: true, checked: history.length, unsealedEvents: 0, unsignedEvents: 0, problem: null });
    expect(r.head.position).toBe(String(history.length));
    // Batches of 13, a signature once 20 events are unsigned, and one more when the sealer stops.
    expect(r.signatures.verified).toBe(Math.floor(history.length / 26) + (history.length % 26 === 0 ? 0 : 1));
    expect(r.signatures.lastVerifiedPosition).toBe(String(history.length));
  });

  it('names the position of a changed payload', async () => {
    const id = idAt(57);
    const before = await row(id);
    await env.pool.query(`UPDATE tf_events.events SET data = (data::jsonb || '{"agentId":"mallory"}')::json WHERE event_id = $1`, [id]);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: '57', eventId: id });
    await env.pool.query(`UPDATE tf_events.events SET data = $2::json WHERE event_id = $1`, [id, before.data]);
    expect((await verify()).ok).toBe(true);
  });

  it('names the position of a deleted event', async () => {
    const id = idAt(33);
    const before = await row(id);
    const full = (await env.pool.query(`SELECT event_type, event_version, event_time, metadata::text AS metadata FROM tf_events.events WHERE event_id = $1`, [id])).rows[0];
    await env.pool.query(`DELETE FROM tf_events.events WHERE event_id = $1`, [id]);
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', position: '33', eventId: id });
    await env.pool.query(
      `INSERT INTO tf_events.events (transaction_id, global_position, stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
       VALUES ($1::text::xid8, $2, $3, $4, $5, $6, $7, $8, $9::json, $10::json)`,
      [before.tx, before.gp, before.stream_id, before.stream_version, id, full.event_type, full.event_version, full.event_time, before.data, full.metadata],
    );
    expect((await verify()).ok).toBe(true);
  });

  it('names the first position of two swapped events', async () => {
    const a = await row(idAt(90));
    const b = await row(idAt(91));
    const swap = (x: typeof a, y: typeof a) =>
      env.pool.query(
        `UPDATE tf_events.events SET transaction_id = CASE WHEN event_id = $1 THEN $3::text::xid8 ELSE $4::text::xid8 END,
                                     global_position = CASE WHEN event_id = $1 THEN $5::bigint ELSE $6::bigint END
         WHERE event_id IN ($1, $2)`,
        [idAt(90), idAt(91), y.tx, x.tx, y.gp, x.gp],
      );
    await swap(a, b);
    expect((await verify()).problem).toMatchObject({ kind: 'reordered', position: '90', eventId: idAt(90) });
    await swap(b, a);
    expect((await verify()).ok).toBe(true);
  });

  it('names the position where an event was inserted', async () => {
    // Put the forged event right before position 121, in the first transaction after position 120's.
    const k = history.findIndex((e, i) => i > 100 && history[i - 1]!.checkpoint.split(':')[1] !== e.checkpoint.split(':')[1]) + 1;
    const target = await row(idAt(k));
    const forged = createEventFactory({ seed: 5 }).action()[0]!;
    await env.pool.query(
      `INSERT INTO tf_events.events (transaction_id, global_position, stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
       VALUES ($1::text::xid8, 0, $2, 0, $3, $4, 1, $5, $6::json, $7::json)`,
      [target.tx, `action-${forged.id}`, forged.id, forged.type, forged.time, JSON.stringify(forged.data), JSON.stringify(forged.metadata)],
    );
    expect((await verify()).problem).toMatchObject({ kind: 'inserted', position: String(k), eventId: forged.id });
    await env.pool.query(`DELETE FROM tf_events.events WHERE event_id = $1`, [forged.id]);
    expect((await verify()).ok).toBe(true);
  });

  it('catches a rewrite of events and chain rows together through the signed checkpoints', async () => {
    const position = 45;
    const id = idAt(position);
    const before = await row(id);
    const chainBefore = await env.ops.selectFrom('chain').selectAll().where('position', '>=', String(position)).orderBy('position').execute();
    await env.pool.query(`UPDATE tf_events.events SET data = (data::jsonb || '{"agentId":"mallory"}')::json WHERE event_id = $1`, [id]);
    // The forger recomputes every chain row from there on, but cannot sign.
    const rewritten = await env.store.readAll({ after: history[position - 2]!.checkpoint, limit: 10_000 });
    let prev = chainBefore[0]!.prev_chain_hash;
    for (const [i, ev] of rewritten.entries()) {
      const h = eventHash(ev);
      const next = chainHash(prev, h);
      await env.pool.query(`UPDATE audit_ops.chain SET event_hash = $2, prev_chain_hash = $3, chain_hash = $4 WHERE position = $1`, [position + i, h, prev, next]);
      prev = next;
    }
    const signed = await signedPositions();
    const firstAfter = signed.find((p) => p >= position)!;
    const lastBefore = signed.filter((p) => p < position).at(-1) ?? 0;
    const r = await verify();
    expect(r.problem).toMatchObject({ kind: 'rewritten', position: String(firstAfter), fromPosition: String(lastBefore + 1) });
    // Restore both.
    await env.pool.query(`UPDATE tf_events.events SET data = $2::json WHERE event_id = $1`, [id, before.data]);
    for (const c of chainBefore) {
      await env.pool.query(`UPDATE audit_ops.chain SET event_hash = $2, prev_chain_hash = $3, chain_hash = $4 WHERE position = $1`, [c.position, c.event_hash, c.prev_chain_hash, c.chain_hash]);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('catches an edited chain row and a forged signature', async () => {
    const original = await env.ops.selectFrom('chain').select(['event_hash']).where('position', '=', '12').executeTakeFirstOrThrow();
    await env.pool.query(`UPDATE audit_ops.chain SET event_hash = $1 WHERE position = 12`, ['0'.repeat(64)]);
    expect((await verify()).problem).toMatchObject({ kind: 'chain_altered', position: '12' });
    await env.pool.query(`UPDATE audit_ops.chain SET event_hash = $1 WHERE position = 12`, [original.event_hash]);
    const p = String((await signedPositions())[0]);
    const sig = await env.ops.selectFrom('chain_signatures').selectAll().where('position', '=', p).executeTakeFirstOrThrow();
    await env.pool.query(`UPDATE audit_ops.chain_signatures SET signature = $1 WHERE position = $2`, [Buffer.alloc(64).toString('base64'), p]);
    expect((await verify()).problem).toMatchObject({ kind: 'signature_invalid', position: p });
    await env.pool.query(`UPDATE audit_ops.chain_signatures SET signature = $1 WHERE position = $2`, [sig.signature, p]);
    expect((await verify()).ok).toBe(true);
  });

  it('reports events appended after the sealed head as unsealed, not as tampering', async () => {
    const extra = createEventFactory({ seed: 77, start: new Date('2026-06-01T00:00:00Z') }).action();
    await env.record(extra);
    const r = await verify();
    expect(r).toMatchObject({ ok: true, unsealedEvents: extra.length });
    await env.pool.query(`DELETE FROM tf_events.events WHERE event_id = ANY($1::uuid[])`, [extra.map((e) => e.id)]);
  });

  it('exports a time range with its chain data, and the export verifies offline', async () => {
    const since = history[30]!.event.time;
    const until = history[100]!.event.time;
    for (const format of ['jsonl', 'csv'] as const) {
      const lines: string[] = [];
      for await (const line of exportAudit({ store: env.store, db: env.ops, format, since, until, keys: [trusted], pageSize: 7 })) lines.push(line);
      const r = await verifyExport((async function* () { yield* lines; })(), { trustedKeys: [trusted] });
      const signedInRange = (await signedPositions()).filter((p) => p >= 31 && p <= 100).length;
      expect(signedInRange).toBeGreaterThan(0);
      expect(r, format).toMatchObject({ ok: true, format, events: 70, signaturesVerified: signedInRange });
      expect(r.header).toMatchObject({ firstPosition: '31', lastPosition: '100' });
    }
    // An export taken after someone edited the store shows it, offline.
    const id = idAt(64);
    const before = await row(id);
    await env.pool.query(`UPDATE tf_events.events SET data = (data::jsonb || '{"gatewayId":"elsewhere"}')::json WHERE event_id = $1`, [id]);
    const lines: string[] = [];
    for await (const line of exportAudit({ store: env.store, db: env.ops, format: 'jsonl', since, until, keys: [trusted] })) lines.push(line);
    await env.pool.query(`UPDATE tf_events.events SET data = $2::json WHERE event_id = $1`, [id, before.data]);
    expect((await verifyExport((async function* () { yield* lines; })(), { trustedKeys: [trusted] })).problem).toMatchObject({ kind: 'modified', position: '64' });
  });

  it('refuses a bad export range with a clear error', async () => {
    const run = async (o: Record<string, unknown>) => {
      const it = exportAudit({ store: env.store, db: env.ops, format: 'jsonl', ...o } as never);
      return it.next();
    };
    await expect(run({ since: 'yesterday-ish' })).rejects.toThrow(/--since is not a date/);
    await expect(run({ since: '2026-06-01', until: '2026-05-01' })).rejects.toThrow(/must be before --until/);
    await expect(run({ format: 'xml' })).rejects.toThrow(/unknown export format "xml"/);
  });
});
