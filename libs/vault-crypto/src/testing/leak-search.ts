import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One form of a secret to look for, with a label for the report. */
export interface Needle {
  readonly label: string;
  readonly bytes: Buffer;
}

/** Where a needle was found. Never holds the secret: only the form's label and the location. */
export interface LeakHit {
  readonly where: string;
  readonly form: string;
}

/**
 * The forms a leaked secret would take: the value, its base64 (padded or not), base64url, hex,
 * and percent-encoding.
 */
export function leakNeedles(secret: string): Needle[] {
  const raw = Buffer.from(secret, 'utf8');
  const forms: [string, string][] = [
    ['value', secret],
    ['base64', raw.toString('base64').replace(/=+$/, '')],
    ['base64url', raw.toString('base64url')],
    ['hex', raw.toString('hex')],
    ['percent-encoded', encodeURIComponent(secret)],
  ];
  const seen = new Set<string>();
  return forms.filter(([, f]) => !seen.has(f) && seen.add(f)).map(([label, f]) => ({ label, bytes: Buffer.from(f, 'utf8') }));
}

/** Searches named byte blobs (log lines, captured messages...) for every needle. */
export function searchBlobs(blobs: Iterable<{ where: string; data: Uint8Array | string }>, needles: readonly Needle[]): LeakHit[] {
  const hits: LeakHit[] = [];
  for (const b of blobs) {
    const data = typeof b.data === 'string' ? Buffer.from(b.data, 'utf8') : Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
    for (const n of needles) if (data.includes(n.bytes)) hits.push({ where: b.where, form: n.label });
  }
  return hits;
}

/** Every regular file under `path` (or `path` itself), searched byte for byte. */
export function searchFiles(path: string, needles: readonly Needle[]): { hits: LeakHit[]; files: number; bytes: number } {
  const files: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (st.isFile()) files.push(p);
  };
  walk(path);
  let bytes = 0;
  const hits = searchBlobs(
    files.map((f) => {
      const data = readFileSync(f);
      bytes += data.length;
      return { where: f, data };
    }),
    needles,
  );
  return { hits, files: files.length, bytes };
}

/** Anything that runs SQL with parameters (a pg Client or Pool). */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * Searches every column of every table and materialized view in every non-system schema of a
 * PostgreSQL database: text forms of all columns (json, arrays and numbers included) and the raw
 * bytes of bytea columns.
 */
export async function searchPostgres(db: SqlQueryable, needles: readonly Needle[]): Promise<{ hits: LeakHit[]; tables: number; columns: number; rows: number }> {
  const cols = await db.query(
    `SELECT c.table_schema AS s, c.table_name AS t, c.column_name AS c, c.data_type AS type
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
        AND t.table_type = 'BASE TABLE'
      ORDER BY 1, 2, 3`,
  );
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const tables = new Map<string, { s: string; t: string; cols: { c: string; type: string }[] }>();
  for (const r of cols.rows as { s: string; t: string; c: string; type: string }[]) {
    const key = `${r.s}.${r.t}`;
    if (!tables.has(key)) tables.set(key, { s: r.s, t: r.t, cols: [] });
    tables.get(key)!.cols.push({ c: r.c, type: r.type });
  }
  const hits: LeakHit[] = [];
  let rows = 0;
  for (const tb of tables.values()) {
    const from = `${ident(tb.s)}.${ident(tb.t)}`;
    rows += Number((await db.query(`SELECT count(*)::int AS n FROM ${from}`)).rows[0].n);
    for (const col of tb.cols) {
      for (const n of needles) {
        const text = n.bytes.toString('utf8');
        // Raw key bytes may hold NUL or invalid UTF-8: no text column can contain them (PostgreSQL
        // refuses both), so those needles are searched in bytea only; their encoded forms
        // (base64, hex...) are needles of their own.
        const textual = !n.bytes.includes(0) && Buffer.from(text, 'utf8').equals(n.bytes);
        if (!textual && col.type !== 'bytea') continue;
        const r =
          col.type === 'bytea'
            ? textual
              ? await db.query(`SELECT count(*)::int AS n FROM ${from} WHERE position($1::bytea IN ${ident(col.c)}) > 0 OR strpos(${ident(col.c)}::text, $2::text) > 0`, [n.bytes, text])
              : await db.query(`SELECT count(*)::int AS n FROM ${from} WHERE position($1::bytea IN ${ident(col.c)}) > 0`, [n.bytes])
            : await db.query(`SELECT count(*)::int AS n FROM ${from} WHERE strpos(${ident(col.c)}::text, $1::text) > 0`, [text]);
        if (Number(r.rows[0].n) > 0) hits.push({ where: `postgres ${tb.s}.${tb.t}.${col.c} (${r.rows[0].n} rows)`, form: n.label });
      }
    }
  }
  return { hits, tables: tables.size, columns: cols.rows.length, rows };
}

/** A message as seen on the wire by a `>` subscriber. */
export interface CapturedMessage {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly headers: string;
  readonly data: Uint8Array;
}

/** The part of a NATS connection the capture needs. */
export interface CaptureConnection {
  subscribe(
    subject: string,
    opts: { callback: (err: Error | null, msg: { subject: string; reply?: string; headers?: unknown; data: Uint8Array }) => void },
  ): { unsubscribe(): void };
  flush(): Promise<void>;
}

/** A running capture of every message on a NATS server (give it a connection of a user allowed to subscribe to `>`). */
export interface NatsCapture {
  readonly messages: readonly CapturedMessage[];
  /** Flushes, stops capturing and returns what was captured. */
  stop(): Promise<readonly CapturedMessage[]>;
  search(needles: readonly Needle[]): LeakHit[];
}

export async function startNatsCapture(nc: CaptureConnection): Promise<NatsCapture> {
  const messages: CapturedMessage[] = [];
  const sub = nc.subscribe('>', {
    callback: (err, m) => {
      if (err) return;
      messages.push({ subject: m.subject, reply: m.reply, headers: m.headers ? String(m.headers) : '', data: Uint8Array.from(m.data) });
    },
  });
  await nc.flush();
  return {
    messages,
    stop: async () => {
      await nc.flush();
      sub.unsubscribe();
      return messages;
    },
    search: (needles) =>
      searchBlobs(
        messages.flatMap((m, i) => [
          { where: `nats #${i} ${m.subject} (body)`, data: m.data },
          { where: `nats #${i} ${m.subject} (subject, reply, headers)`, data: `${m.subject} ${m.reply ?? ''} ${m.headers}` },
        ]),
        needles,
      ),
  };
}
