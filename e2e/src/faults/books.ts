/**
 * The books of the fault suite: what the agent sent and got, against what the audit recorded
 * (the read models the GraphQL API serves, and the event store under them) and what the
 * upstreams received, id by id.
 */
import pg from 'pg';
import type { FakeUpstreams } from '@tameflare/stack/fake-upstreams';
import type { Attempt } from './traffic.ts';

export interface AuditRow {
  actionId: string;
  tfreq: string;
  decision: string | null;
  decidedEventId: string | null;
  credentialReleasedAt: string | null;
  outcome: string | null;
  status: number | null;
  forwarded: boolean | null;
}

export interface PhaseReport {
  phase: string;
  sent: number;
  ok200: number;
  denied403: number;
  failClosed503: number;
  otherStatus: number;
  refused: number;
  broken: number;
  audited: number;
  /** 503s never recorded: allowed only while NATS itself was down (nothing can be recorded then). */
  unaudited503: number;
  upstream: number;
}

const idOf = (query: string | null | undefined) => /(?:^|&)tfreq=([^&]+)/.exec(query ?? '')?.[1];

/** Every action of the run as projected into the read models, keyed by the attempt id it carries. */
export async function auditRows(databaseUrl: string, runId: string): Promise<AuditRow[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query(
      `SELECT action_id, query, decision, decided_event_id, credential_released_at, outcome, status, forwarded
         FROM audit.actions WHERE run_id = $1 AND requested_at IS NOT NULL`,
      [runId],
    );
    return r.rows.map((x) => ({
      actionId: x.action_id,
      tfreq: idOf(x.query) ?? '',
      decision: x.decision,
      decidedEventId: x.decided_event_id,
      credentialReleasedAt: x.credential_released_at,
      outcome: x.outcome,
      status: x.status,
      forwarded: x.forwarded,
    }));
  } finally {
    await c.end();
  }
}

/** Logical events recorded more than once for one action (the event store refuses a repeated event id; this catches a repeated fact). */
export async function repeatedActionEvents(databaseUrl: string, runId: string): Promise<{ actionId: string; type: string; n: number }[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query(
      `SELECT data->>'actionId' AS action_id, event_type, count(*)::int AS n FROM tf_events.events
        WHERE event_type LIKE 'Action%' AND data->>'runId' = $1 GROUP BY 1, 2 HAVING count(*) > 1`,
      [runId],
    );
    return r.rows.map((x) => ({ actionId: x.action_id, type: x.event_type, n: x.n }));
  } finally {
    await c.end();
  }
}

/** Counts of the run's action events in the event store, by type. */
export async function storedActionEvents(databaseUrl: string, runId: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query(`SELECT event_type, count(*)::int AS n FROM tf_events.events WHERE event_type LIKE 'Action%' AND data->>'runId' = $1 GROUP BY 1`, [runId]);
    return Object.fromEntries(r.rows.map((x) => [x.event_type, x.n]));
  } finally {
    await c.end();
  }
}

/** Every attempt id an upstream received, with how often. */
export function upstreamIds(fakes: FakeUpstreams): Map<string, { n: number; method: string; authorized: boolean }> {
  const out = new Map<string, { n: number; method: string; authorized: boolean }>();
  for (const u of Object.values(fakes.byProvider)) {
    for (const r of u?.requests ?? []) {
      const id = idOf(r.url.split('?')[1]);
      if (!id) continue;
      const prev = out.get(id);
      out.set(id, { n: (prev?.n ?? 0) + 1, method: r.method, authorized: r.authorized });
    }
  }
  return out;
}

/**
 * Checks the books. Returns the per-phase report and every broken invariant, as sentences:
 * - every answered attempt is in the audit exactly once, with a completion that matches what the
 *   agent got (200 forwarded on allow, 403 denied, 503 not forwarded); a 503 may be missing from
 *   the audit only while NATS was down;
 * - no attempt id appears twice in the audit, no action has a fact recorded twice;
 * - every request an upstream received carries an id whose allow decision is recorded, and was
 *   received once; no denied request ever reached an upstream;
 * - every 503 is an RFC 9457 problem.
 */
export function checkBooks(o: { attempts: Attempt[]; rows: AuditRow[]; upstream: Map<string, { n: number; method: string; authorized: boolean }>; natsDownPhases: Set<string> }): { report: PhaseReport[]; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map<string, AuditRow[]>();
  for (const r of o.rows) byId.set(r.tfreq, [...(byId.get(r.tfreq) ?? []), r]);
  for (const [id, rows] of byId) if (rows.length > 1) problems.push(`${id}: recorded ${rows.length} times in the audit`);
  const sentIds = new Set(o.attempts.map((a) => a.id));
  for (const id of byId.keys()) if (!sentIds.has(id)) problems.push(`${id}: in the audit but never sent`);

  const phases = new Map<string, PhaseReport>();
  const phaseOf = (name: string) => {
    let p = phases.get(name);
    if (!p) phases.set(name, (p = { phase: name, sent: 0, ok200: 0, denied403: 0, failClosed503: 0, otherStatus: 0, refused: 0, broken: 0, audited: 0, unaudited503: 0, upstream: 0 }));
    return p;
  };

  for (const a of o.attempts) {
    const p = phaseOf(a.phase);
    p.sent++;
    const row = byId.get(a.id)?.[0];
    if (row) p.audited++;
    if (o.upstream.has(a.id)) p.upstream++;
    if (a.result === 'refused') {
      p.refused++;
      if (row) problems.push(`${a.id}: connection refused, yet audited`);
      continue;
    }
    if (a.result === 'broken') {
      p.broken++;
      continue;
    }
    if (a.status === 200) p.ok200++;
    else if (a.status === 403) p.denied403++;
    else if (a.status === 503) p.failClosed503++;
    else {
      p.otherStatus++;
      problems.push(`${a.id} (${a.phase}): unexpected status ${a.status}`);
    }
    if (a.status === 503 && !/^application\/problem\+json/.test(a.contentType ?? '')) problems.push(`${a.id}: 503 without a problem+json body (${a.contentType})`);
    if (!row) {
      if (a.status === 503 && o.natsDownPhases.has(a.phase)) p.unaudited503++;
      else problems.push(`${a.id} (${a.phase}): answered ${a.status} but not in the audit`);
      continue;
    }
    if (row.outcome === null) problems.push(`${a.id} (${a.phase}): answered ${a.status} but its completion is not recorded`);
    if (a.status === 200 && !(row.decision === 'allow' && row.forwarded === true && row.status === 200)) problems.push(`${a.id}: 200 but audited ${row.decision}/${row.outcome}/${row.status}`);
    if (a.status === 403 && !(row.decision === 'deny' && row.forwarded === false)) problems.push(`${a.id}: 403 but audited ${row.decision}/${row.outcome}`);
    if (a.status === 503 && row.forwarded !== false) problems.push(`${a.id}: 503 but audited as forwarded`);
    if (a.kind === 'delete' && a.status === 200) problems.push(`${a.id}: a denied action was answered 200`);
  }

  for (const [id, seen] of o.upstream) {
    if (seen.n > 1) problems.push(`${id}: reached the upstream ${seen.n} times`);
    if (seen.method === 'DELETE') problems.push(`${id}: a denied DELETE reached the upstream`);
    if (!seen.authorized) problems.push(`${id}: reached the upstream without the injected credential`);
    const row = byId.get(id)?.[0];
    if (!row || row.decision !== 'allow' || !row.decidedEventId) problems.push(`${id}: reached the upstream without a recorded allow (${row ? row.decision : 'not audited'})`);
  }
  return { report: [...phases.values()], problems };
}

export function formatReport(report: PhaseReport[]): string {
  const cols: (keyof PhaseReport)[] = ['phase', 'sent', 'ok200', 'denied403', 'failClosed503', 'refused', 'broken', 'audited', 'unaudited503', 'upstream', 'otherStatus'];
  const head = ['fault', 'sent', '200', '403', '503', 'refused', 'broken', 'audited', '503 unaudited', 'upstream', 'other'];
  const rows = report.map((r) => cols.map((c) => String(r[c])));
  const total = cols.map((c, i) => (i === 0 ? 'total' : String(report.reduce((s, r) => s + (r[c] as number), 0))));
  const all = [head, ...rows, total];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ')).join('\n');
}
