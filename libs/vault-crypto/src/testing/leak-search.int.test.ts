import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers } from '@nats-io/transport-node';
import { createTestDatabase, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { leakNeedles, searchFiles, searchPostgres, startNatsCapture } from './index.ts';

// The leak search must find what is there, or a "zero hits" elsewhere proves nothing.
const secret = 'sk_live/leak+search canary?0123456789~';
const needles = leakNeedles(secret);
let db: TestDatabase;
let nats: TestNatsServer;
const dir = mkdtempSync(join(tmpdir(), 'tf-leak-'));

beforeAll(async () => {
  db = await createTestDatabase('leak');
  nats = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await db?.drop();
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('leak search', () => {
  it('finds the secret in any column type and form across schemas, and nothing in a clean database', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA other; CREATE TABLE public.clean (id int, note text, blob bytea, doc jsonb); CREATE TABLE other.t (id int, note text, blob bytea, doc jsonb, tags text[])`);
      await c.query(`INSERT INTO public.clean VALUES (1, 'nothing', '\\x00ff', '{"a":1}')`);
      expect((await searchPostgres(c, needles)).hits).toEqual([]);

      await c.query(`INSERT INTO other.t (id, note) VALUES (1, $1)`, [`prefix ${secret} suffix`]);
      await c.query(`INSERT INTO other.t (id, blob) VALUES (2, $1)`, [Buffer.concat([Buffer.from([0, 1]), Buffer.from(secret), Buffer.from([2])])]);
      await c.query(`INSERT INTO other.t (id, doc) VALUES (3, $1)`, [{ auth: `Basic ${Buffer.from(secret).toString('base64')}` }]);
      await c.query(`INSERT INTO other.t (id, tags) VALUES (4, $1)`, [[encodeURIComponent(secret)]]);
      const r = await searchPostgres(c, needles);
      expect(r.tables).toBe(2);
      const found = r.hits.map((h) => `${h.where.split(' (')[0]}:${h.form}`).sort();
      expect(found).toEqual(
        expect.arrayContaining(['postgres other.t.note:value', 'postgres other.t.blob:value', 'postgres other.t.blob:hex', 'postgres other.t.doc:base64', 'postgres other.t.tags:percent-encoded']),
      );
      expect(JSON.stringify(r.hits)).not.toContain(secret);
    } finally {
      await c.end();
    }
  });

  it('captures every NATS message and finds the secret in a body or a header', async () => {
    const admin = await connect({ servers: nats.url });
    const other = await connect({ servers: nats.url });
    try {
      const cap = await startNatsCapture(admin);
      other.publish('tf.clean', 'nothing to see');
      await other.flush();
      await admin.flush();
      expect(cap.search(needles)).toEqual([]);
      const h = headers();
      h.set('authorization', `Bearer ${secret}`);
      other.publish('tf.header', 'clean body', { headers: h });
      other.publish('tf.body', JSON.stringify({ b64: Buffer.from(secret).toString('base64url') }));
      await other.flush();
      const msgs = await cap.stop();
      expect(msgs.map((m) => m.subject)).toEqual(['tf.clean', 'tf.header', 'tf.body']);
      expect(cap.search(needles).map((x) => x.where)).toEqual(['nats #1 tf.header (subject, reply, headers)', 'nats #2 tf.body (body)']);
    } finally {
      await admin.close();
      await other.close();
    }
  });

  it('searches files recursively (log files, the JetStream store)', () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'clean.log'), '{"msg":"released"}\n');
    expect(searchFiles(dir, needles).hits).toEqual([]);
    writeFileSync(join(dir, 'a', 'b', 'leaky.log'), `{"msg":"oops","token":"${secret}"}\n`);
    const r = searchFiles(dir, needles);
    expect(r.files).toBe(2);
    expect(r.hits).toEqual([{ where: join(dir, 'a', 'b', 'leaky.log'), form: 'value' }]);
  });
});
