import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { ExportRecord, TrustedKey } from '@tameflare/audit';
import { isTameFlareError, isValidName } from '@tameflare/contracts';
import { flag, intOpt, stringOpt } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { timeRange } from '../operator/time-range.ts';
import { formatMs } from '../output.ts';
import { defineCommand, type CommandSpec, type ParsedArgs } from '../registry.ts';

const DECISIONS = ['allow', 'deny', 'require_approval'] as const;

/** The audit library and the direct database access: loaded only by export, verify and replay. */
const auditLib = () => import('@tameflare/audit');
const auditStore = () => import('../operator/audit-store.ts');

/** One decision as `tf audit tail` prints it (and, with --json, one JSON line). */
interface TailRecord {
  time: string;
  actionId: string;
  gatewayId: string;
  agentId: string;
  runId: string;
  decision: string | null;
  enforced: boolean | null;
  rule: string | null;
  reason: string | null;
  actionType: string | null;
  resource: string | null;
  method: string | null;
  url: string | null;
}

interface ActionNode {
  id: string;
  gatewayId: string;
  agentId: string;
  runId: string;
  requestedAt: string | null;
  type: string | null;
  resource: string | null;
  decision: string | null;
  decided: { reason: string; decidingRule: string | null; enforced: boolean; decidedAt: string } | null;
  request: { method: string | null; url: string | null };
}

const ACTION_FIELDS = 'id gatewayId agentId runId requestedAt type resource decision decided { reason decidingRule enforced decidedAt } request { method url }';

const RECENT_ACTIONS = /* GraphQL */ `
  query Recent($filter: ActionFilter, $first: Int) { actions(filter: $filter, first: $first) { nodes { ${ACTION_FIELDS} } } }`;
const FOLLOW_ACTIONS = /* GraphQL */ `
  query Follow($filter: ActionFilter, $first: Int, $after: String) {
    actions(filter: $filter, first: $first, after: $after) { nodes { ${ACTION_FIELDS} } pageInfo { hasNextPage endCursor } }
  }`;
/** How often --follow asks for new decisions, and how far back each poll looks for late ones. */
const FOLLOW_POLL_MS = 500;
const FOLLOW_OVERLAP_MS = 15_000;
const lower = (s: string | null | undefined) => (s ? s.toLowerCase() : null);

const fromAction = (a: ActionNode): TailRecord => ({
  time: a.decided?.decidedAt ?? a.requestedAt ?? '',
  actionId: a.id,
  gatewayId: a.gatewayId,
  agentId: a.agentId,
  runId: a.runId,
  decision: lower(a.decision),
  enforced: a.decided?.enforced ?? null,
  rule: a.decided?.decidingRule ?? null,
  reason: a.decided?.reason ?? null,
  actionType: a.type,
  resource: a.resource,
  method: a.request.method,
  url: a.request.url,
});

function printRecord(ctx: CommandContext, r: TailRecord): void {
  if (ctx.json) {
    ctx.out.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const s = ctx.out.style;
  const d = r.decision ?? 'pending';
  const decision = (d === 'allow' ? s.green : d === 'deny' ? s.red : s.yellow)(d.padEnd(16));
  const what = [r.actionType ?? '?', r.resource, r.method && r.url ? s.dim(`${r.method} ${r.url}`) : null].filter(Boolean).join('  ');
  const why = r.rule ? `${r.rule}: ${r.reason ?? ''}` : (r.reason ?? '');
  ctx.out.line(`${r.time}  ${decision}  ${r.agentId}  ${what}${why ? `  ${s.dim(`(${why}${r.enforced === false ? ', monitor mode: not enforced' : ''})`)}` : ''}`);
}

function decisionsOf(args: ParsedArgs): string[] | null {
  const raw = args.values.decision;
  const list = Array.isArray(raw) ? (raw as string[]) : [];
  if (!list.length) return null;
  for (const d of list) if (!(DECISIONS as readonly string[]).includes(d)) throw usageError(`--decision ${JSON.stringify(d.slice(0, 40))} is not a decision`, `use ${DECISIONS.join(', ')}`);
  return list.map((d) => d.toUpperCase());
}

const tail = defineCommand({
  name: 'audit tail',
  summary: 'show the latest decisions, and with --follow each new one as it is made',
  usage: 'tf audit tail [--follow] [--limit N] [--since WHEN] [--gateway G] [--agent A] [--decision D]... [--json]',
  description: `
Prints the latest decisions (oldest first): time, decision, agent, action, resource, request,
and the deciding rule with its reason. --follow then prints each new decision as soon as the
audit API can answer for it (within about a second) until interrupted. --json prints one JSON
object per line. Through the audit API with your API token (TF_API_TOKEN, else the bootstrap
admin token).`,
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new decisions as they are made' },
    limit: { type: 'string', valueName: 'N', description: 'how many recent decisions to show first (default 20, 0 for none)' },
    since: { type: 'string', valueName: 'WHEN', description: 'only decisions since then (30m, 1d or an ISO time)' },
    gateway: { type: 'string', valueName: 'G', description: 'only this gateway' },
    agent: { type: 'string', valueName: 'A', description: 'only this agent' },
    decision: { type: 'string', multiple: true, valueName: 'D', description: 'only allow, deny or require_approval (repeatable)' },
  },
  json: true,
  examples: ['tf audit tail', 'tf audit tail -f --decision deny', 'tf audit tail --agent payout-bot --since 1h --json'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf audit tail [--follow]');
    const limit = intOpt(args, 'limit', 20, { min: 0, max: 500 })!;
    const { since } = timeRange(stringOpt(args, 'since'), undefined);
    const gatewayId = stringOpt(args, 'gateway') ?? null;
    const agentId = stringOpt(args, 'agent') ?? null;
    for (const [name, v] of [['gateway', gatewayId], ['agent', agentId]] as const) {
      if (v !== null && !isValidName(v)) throw usageError(`invalid ${name} id ${JSON.stringify(v.slice(0, 60))}: ids are lowercase letters, digits, - and _`);
    }
    const decision = decisionsOf(args);
    const gql = ctx.graphql();
    const filter = { ...(gatewayId ? { gatewayId } : {}), ...(agentId ? { agentId } : {}), ...(decision ? { decision } : {}) };
    const follow = flag(args, 'follow');
    const startedAt = Date.now();
    const printed = new Map<string, number>();
    if (limit > 0) {
      const { actions } = await gql.request<{ actions: { nodes: ActionNode[] } }>(RECENT_ACTIONS, { filter: { ...filter, ...(since ? { since } : {}) }, first: limit });
      for (const a of [...actions.nodes].reverse()) {
        printed.set(a.id, Date.parse(a.requestedAt ?? '') || startedAt);
        printRecord(ctx, fromAction(a));
      }
      if (!actions.nodes.length && !follow && !ctx.json) ctx.out.line('No decisions recorded yet.');
    }
    if (!follow) return ExitCode.Ok;

    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    ctx.onCleanup(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
    ctx.out.note(ctx.out.style.dim('Following new decisions (Ctrl-C to stop)...'));
    // Polls the read model rather than a live stream: a decision is shown once it is queryable,
    // none is missed between two polls, and each action is printed once, when its decision is in.
    // Nothing older than what was listed (or, with --limit 0, than this command) is printed.
    const floor = printed.size ? Math.max(...printed.values()) : startedAt;
    let newest = Math.max(startedAt, floor);
    while (!controller.signal.aborted) {
      const from = new Date(newest - FOLLOW_OVERLAP_MS).toISOString();
      let after: string | null = null;
      for (let page = 0; page < 20 && !controller.signal.aborted; page++) {
        const r: { actions: { nodes: ActionNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql.request(FOLLOW_ACTIONS, { filter: { ...filter, since: from }, first: 500, after });
        for (const a of [...r.actions.nodes].reverse()) {
          const t = Date.parse(a.requestedAt ?? '') || Date.now();
          if (printed.has(a.id) || a.decision === null || t < floor) continue;
          printed.set(a.id, t);
          newest = Math.max(newest, t);
          printRecord(ctx, fromAction(a));
        }
        if (!r.actions.pageInfo.hasNextPage) break;
        after = r.actions.pageInfo.endCursor;
      }
      for (const [id, t] of printed) if (t < newest - 2 * FOLLOW_OVERLAP_MS) printed.delete(id);
      await new Promise<void>((res) => {
        const timer = setTimeout(res, FOLLOW_POLL_MS);
        controller.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          res();
        }, { once: true });
      });
    }
    return ExitCode.Ok;
  },
});

/** Writes with back-pressure: a slow pipe (`| gzip`) never makes tf hold the export in memory. */
async function writeAll(dest: Writable, chunk: string): Promise<void> {
  if (!dest.write(chunk)) await once(dest, 'drain');
}

/** The summary in an export's last line (the end record), for the message. */
function endRecordOf(format: 'jsonl' | 'csv', line: string, parseCsvLine: (line: string) => string[]): Extract<ExportRecord, { record: 'end' }> | null {
  try {
    const rec = format === 'jsonl' ? JSON.parse(line) : JSON.parse(parseCsvLine(line.replace(/\r?\n$/, '')).at(-1)!);
    return (rec as { record?: string }).record === 'end' ? (rec as Extract<ExportRecord, { record: 'end' }>) : null;
  } catch {
    return null;
  }
}

const exportCommand = defineCommand({
  name: 'audit export',
  summary: 'stream a tamper-evident export of the audit log (JSON Lines or CSV, with chain data)',
  usage: 'tf audit export [--format jsonl|csv] [--since WHEN] [--until WHEN] [--out FILE]',
  description: `
Streams every recorded event in the period with its position, hashes and the chain hash linking
it to the one before, the signed checkpoints in range, and a header and end record, so the file
can be checked offline with tf audit verify --file FILE (by anyone holding the public key).
Reads the event store and audit tables directly (TF_DATABASE_URL, else the stack's database).
--since and --until take a duration before now (7d) or an ISO time; without them, everything.
With --out the file appears only when complete.`,
  options: {
    format: { type: 'string', valueName: 'FMT', description: 'jsonl (default) or csv' },
    since: { type: 'string', valueName: 'WHEN', description: 'from this time (inclusive)' },
    until: { type: 'string', valueName: 'WHEN', description: 'to this time (exclusive)' },
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'write to FILE instead of standard output' },
  },
  examples: ['tf audit export --since 30d --out audit-may.jsonl', 'tf audit export --format csv --since 2026-05-01 --until 2026-06-01 | gzip > may.csv.gz'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'write to a file with --out FILE');
    const format = stringOpt(args, 'format') ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw usageError(`--format ${JSON.stringify(format.slice(0, 20))} is not an export format`, 'use jsonl or csv');
    const { since, until } = timeRange(stringOpt(args, 'since'), stringOpt(args, 'until'));
    const outFile = stringOpt(args, 'out');
    const target = outFile === undefined ? null : resolve(ctx.cwd, outFile);
    const { exportAudit, parseCsvLine } = await auditLib();
    const audit = await (await auditStore()).openAuditStore(ctx.env, ctx.stateDir);
    ctx.onCleanup(() => audit.close());
    const partial = target === null ? null : `${target}.partial-${process.pid}`;
    const dest: Writable = partial === null ? ctx.out.stdout : createWriteStream(partial, { mode: 0o600 });
    let last = '';
    try {
      for await (const line of exportAudit({ store: audit.store, db: audit.ops, format, since, until, keys: audit.stackKey ? [audit.stackKey] : [] })) {
        await writeAll(dest, line);
        last = line;
      }
      if (partial !== null) {
        await new Promise<void>((res, rej) => dest.end((err?: Error | null) => (err ? rej(err) : res())));
        renameSync(partial, target!);
      }
    } catch (err) {
      if (partial !== null) {
        dest.destroy();
        rmSync(partial, { force: true });
      }
      if (isTameFlareError(err, 'TF_ERR_AUDIT_INVALID_EXPORT')) throw new CliError(err.code, err.message, { cause: err, hint: 'see tf audit export --help' });
      throw err;
    }
    const end = endRecordOf(format, last, parseCsvLine);
    const where = target === null ? 'standard output' : outFile!;
    ctx.out.note(
      `Exported ${end ? `${end.events} events and ${end.signatures} signed checkpoints (positions up to ${end.lastPosition})` : 'the audit log'} from ${audit.database} to ${where}.` +
        (audit.stackKey ? '' : ' No chain public key was found in the state directory: verify it with --public-key.'),
    );
    return ExitCode.Ok;
  },
});

/** Keys from `--public-key FILE` (PEM or base64), else the stack's own chain key. */
async function trustedKeysOf(ctx: CommandContext, args: ParsedArgs, stackKey: TrustedKey | null): Promise<TrustedKey[]> {
  const { parseTrustedKeys } = await auditLib();
  const raw = args.values['public-key'];
  const files = Array.isArray(raw) ? (raw as string[]) : [];
  if (!files.length) return stackKey ? [stackKey] : [];
  const texts = files.map((f) => {
    try {
      return readFileSync(resolve(ctx.cwd, f), 'utf8');
    } catch (cause) {
      throw new CliError('TF_ERR_CLI_USAGE', `cannot read the public key ${f}: ${(cause as Error).message}`, { cause, hint: 'give the chain public key file (audit-chain-ed25519.pub in the projector state directory)' });
    }
  });
  try {
    return parseTrustedKeys(texts);
  } catch (err) {
    throw new CliError('TF_ERR_CLI_USAGE', (err as Error).message, { cause: err, hint: 'give the Ed25519 chain public key (PEM), as the projector writes it' });
  }
}

function tampered(kind: string, position: string | null, message: string, extra = ''): never {
  throw new CliError('TF_ERR_AUDIT_TAMPERED', `${kind.replace(/_/g, ' ')}${position ? ` at position ${position}` : ''}${extra}: ${message}`, {
    hint: 'the audit log does not match what was sealed; keep this output and investigate the database (tf audit export keeps a copy for evidence)',
  });
}

const verify = defineCommand({
  name: 'audit verify',
  summary: 'check the hash chain and signatures of the audit log, or of an export file',
  usage: 'tf audit verify [--file EXPORT] [--public-key FILE]... [--json]',
  description: `
Without --file: recomputes the hash of every event in the event store and compares it, in order,
with the sealed chain and its signed checkpoints (TF_DATABASE_URL, else the stack's database).
With --file: checks an export offline, needing only the file and the public key. Either way it
names the first bad position and what happened there (modified, deleted, inserted, reordered,
chain edited, signature invalid, rewritten). Exit 0 when intact, 1 on tampering.
Signatures are checked with --public-key (PEM or base64), else the stack's own chain key.`,
  options: {
    file: { type: 'string', valueName: 'EXPORT', description: 'an export from tf audit export (jsonl or csv)' },
    'public-key': { type: 'string', multiple: true, valueName: 'FILE', description: 'a trusted chain public key (repeatable)' },
  },
  json: true,
  examples: ['tf audit verify', 'tf audit verify --file audit-may.jsonl --public-key audit-chain-ed25519.pub'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'check an export with --file EXPORT');
    const file = stringOpt(args, 'file');
    const s = ctx.out.style;
    if (file !== undefined) {
      const path = resolve(ctx.cwd, file);
      try {
        if (!statSync(path).isFile()) throw new Error('not a file');
      } catch (cause) {
        throw new CliError('TF_ERR_CLI_USAGE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message}`, { cause, hint: 'give a file written by tf audit export' });
      }
      const { verifyExport } = await auditLib();
      const keys = await trustedKeysOf(ctx, args, args.values['public-key'] === undefined ? await (await auditStore()).stackChainKey(ctx.env, ctx.stateDir) : null);
      const report = await verifyExport(createReadStream(path), { trustedKeys: keys });
      ctx.out.result({ file, ...report }, () => {
        if (!report.ok) return;
        ctx.out.line(s.green(`${file} is intact: ${report.events} events, ${report.signaturesVerified} signed checkpoints verified${report.lastVerifiedPosition ? ` (last at position ${report.lastVerifiedPosition})` : ''}.`));
        if (report.selfAttested) ctx.out.line(s.yellow('  Signatures were checked only against the keys the file lists itself: pass --public-key to trust a key you hold.'));
      });
      if (!report.ok) tampered(report.problem!.kind, report.problem!.position, report.problem!.message, ` (line ${report.problem!.line} of ${file})`);
      return ExitCode.Ok;
    }
    const { verifyChain } = await auditLib();
    const audit = await (await auditStore()).openAuditStore(ctx.env, ctx.stateDir);
    ctx.onCleanup(() => audit.close());
    const keys = await trustedKeysOf(ctx, args, audit.stackKey);
    const report = await verifyChain({ store: audit.store, db: audit.ops, trustedKeys: keys, onProgress: (n) => ctx.out.progress(`verified ${n} events...`) });
    ctx.out.endProgress();
    ctx.out.result({ database: audit.database, ...report }, () => {
      if (!report.ok) return;
      ctx.out.line(s.green(`The audit log is intact: ${report.checked} events match the sealed chain (head at position ${report.head.position}).`));
      ctx.out.line(`  signatures  ${report.signatures.verified} verified${report.signatures.untrusted ? `, ${report.signatures.untrusted} by keys not trusted here` : ''}${report.signatures.lastVerifiedPosition ? `, last at position ${report.signatures.lastVerifiedPosition}` : ''}`);
      if (report.unsignedEvents) ctx.out.line(`  ${report.unsignedEvents} sealed events after the last signature (protected by the chain until the next checkpoint)`);
      if (report.unsealedEvents) ctx.out.line(`  ${report.unsealedEvents} newer events not sealed yet (not checked)`);
      if (!keys.length) ctx.out.line(s.yellow('  No trusted public key: signatures were not checked. Pass --public-key.'));
    });
    if (!report.ok) tampered(report.problem!.kind, report.problem!.position, report.problem!.message);
    return ExitCode.Ok;
  },
});

const replay = defineCommand({
  name: 'audit replay',
  summary: 'rebuild every read model from the event store, then swap it in',
  usage: 'tf audit replay [--batch-size N] [--json]',
  description: `
Rebuilds the audit read models from the first recorded event into a side schema while the live
ones keep serving, catches up with the live projector, and swaps them in atomically; the
projector continues from there. Prints progress as it goes. Works on the database directly
(TF_DATABASE_URL, else the stack's database). The hash chain is never rebuilt.`,
  options: { 'batch-size': { type: 'string', valueName: 'N', description: 'events per transaction (default 5000)' } },
  json: true,
  examples: ['tf audit replay'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf audit replay takes no arguments');
    const batchSize = intOpt(args, 'batch-size', 5000, { min: 1, max: 50_000 })!;
    const { replayReadModels } = await auditLib();
    const audit = await (await auditStore()).openAuditStore(ctx.env, ctx.stateDir, { poolSize: 4, statementTimeoutMs: 600_000 });
    ctx.onCleanup(() => audit.close());
    const phases: { phase: string; events: number; elapsedMs: number }[] = [];
    let result;
    try {
      result = await replayReadModels({
        pool: audit.pool,
        store: audit.store,
        checkpoints: audit.store.processors,
        batchSize,
        onProgress: (p) => {
          phases.push({ phase: p.phase, events: p.events, elapsedMs: p.elapsedMs });
          if (ctx.json) return;
          if (p.phase === 'rebuild') ctx.out.progress(`rebuilding: ${p.events} events (${p.eventsPerSecond}/s, ${formatMs(p.elapsedMs)})`);
          else if (p.phase === 'catch-up') ctx.out.progress(`catching up with the live projector from ${p.events} events...`);
          else if (p.phase === 'swap') ctx.out.progress(`swapping in the rebuilt read models (${p.events} events)...`);
        },
      });
    } catch (err) {
      if (isTameFlareError(err, 'TF_ERR_AUDIT_REPLAY')) throw new CliError(err.code, err.message, { cause: err, hint: 'wait for the other replay to finish, then run it again; the live read models are unchanged' });
      throw err;
    }
    ctx.out.endProgress();
    const rate = result.elapsedMs > 0 ? Math.round((result.events * 1000) / result.elapsedMs) : result.events;
    ctx.out.result({ ...result, eventsPerSecond: rate, database: audit.database }, () => {
      ctx.out.line(ctx.out.style.green(`Replayed ${result.events} events into fresh read models in ${formatMs(result.elapsedMs)} (${rate} events/s) and swapped them in (generation ${result.generation}).`));
    });
    return ExitCode.Ok;
  },
});

/** `tf audit tail|export|verify|replay`. */
export const auditCommands: readonly CommandSpec[] = [tail, exportCommand, verify, replay];
