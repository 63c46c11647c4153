/**
 * The people-facing commands of the real `tf` CLI against a whole stack with a fake GitHub:
 * `tf approvals list|approve|deny` on requests an agent is held on (voter and role from the API
 * token), and `tf audit tail|export|verify|replay` on what the stack recorded, down to a
 * tampered event in the store and a tampered export file, each named by position, exit 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWith, type ClientRequest, type ClientResponse } from '@tameflare/proxy/testing';
import { waitFor } from '@tameflare/testing';
import { auditedActions, REPO_ROOT, startTfStack, type TfResult, type TfStack } from './harness/index.ts';

const POLICY = `${readFileSync(join(REPO_ROOT, 'infra', 'policies', 'default.yaml'), 'utf8').trimEnd()}

  - id: approve-issue-create
    effect: require_approval
    match:
      actions: [github.issue.create]
    reason: Opening an issue needs a human
    approval: { timeout: 5m, approvers: [approver], quorum: 1 }
`;

let stack: TfStack;
let dir: string;
let run: Awaited<ReturnType<TfStack['startRun']>>;
const tokens: Record<'alice' | 'victor', string> = { alice: '', victor: '' };

const tf = (args: string[], env: Record<string, string> = {}) => stack.tf(args, { cwd: dir, env });
const as = (who: keyof typeof tokens) => ({ TF_API_TOKEN: tokens[who] });
const json = <T = any>(r: TfResult): T => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
};
const failure = (r: TfResult) => {
  const lines = r.stderr.trim().split('\n');
  return { reason: lines.find((l) => l.startsWith('tf: ')) ?? '', hint: lines.find((l) => l.startsWith('  hint: ')) ?? '' };
};
let sent = 0;
const send = (req: ClientRequest): Promise<ClientResponse> => {
  sent++;
  return sendWith('curl', { proxyUrl: run.proxyUrl(), caPem: stack.caPem }, { ...req, headers: { 'user-agent': 'tf-e2e', ...(req.headers ?? {}) } });
};
/** Opens an issue: held by the gateway until the approval is decided (awaited later). */
const openIssue = (title: string) => {
  const held = send({ method: 'POST', url: 'https://api.github.com/repos/acme/widgets/issues', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ title })) });
  // A test that fails while it is held must not leave an unhandled rejection behind.
  held.catch(() => undefined);
  return held;
};
const readRepo = () => send({ method: 'GET', url: 'https://api.github.com/repos/acme/widgets' });
const deleteRepo = () => send({ method: 'DELETE', url: 'https://api.github.com/repos/acme/widgets' });

const seenApprovals = new Set<string>();
/** The next pending approval the audit API lists (the tests hold one request at a time). */
async function nextPending(): Promise<any> {
  return waitFor(
    async () => {
      const list = json(await tf(['approvals', 'list', '--json'], as('alice')));
      const a = list.approvals.find((x: { id: string }) => !seenApprovals.has(x.id));
      if (a) seenApprovals.add(a.id);
      return a;
    },
    { timeoutMs: 20_000, intervalMs: 300, what: 'a pending approval' },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-e2e-cli-audit-'));
  stack = await startTfStack({ providers: ['github'], policy: POLICY });
  run = await stack.startRun('cli-audit');
  tokens.alice = json(await stack.tf(['token', 'create', 'alice', '--role', 'approver', '--json'], {})).token;
  tokens.victor = json(await stack.tf(['token', 'create', 'victor', '--role', 'viewer', '--json'], {})).token;
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('tf approvals', () => {
  it('list shows the exact request held, the votes and the time left; approve releases it once, as the token holder', async () => {
    const github = stack.upstream('github');
    const before = github.requests.length;
    const held = openIssue('Found a bug');
    const approval = await nextPending();
    expect(approval).toMatchObject({
      status: 'PENDING',
      agentId: 'cli-audit',
      ruleId: 'approve-issue-create',
      reason: 'Opening an issue needs a human',
      quorum: 1,
      approverRoles: ['APPROVER'],
      votes: [],
      request: { method: 'POST', url: 'https://api.github.com/repos/acme/widgets/issues', actionType: 'github.issue.create', resource: 'acme/widgets' },
    });
    expect(approval.timeLeftMs).toBeGreaterThan(60_000);
    expect(approval.timeLeftMs).toBeLessThanOrEqual(5 * 60_000);
    const human = await tf(['approvals', 'list'], as('alice'));
    expect(human.stdout).toContain(approval.id);
    expect(human.stdout).toContain('request  POST https://api.github.com/repos/acme/widgets/issues');
    expect(human.stdout).toMatch(/pending, \d+m \d\ds left {2}0\/1 approvals from approver/);
    expect(human.stdout).toContain('You vote as alice (approver)');
    expect(github.requests.length).toBe(before);

    // A viewer may not vote at all: the audit API refuses it. An admin may vote, but this rule
    // wants an approver: the approval service refuses it and records the attempt. Still held.
    const viewer = await tf(['approvals', 'approve', approval.id], as('victor'));
    expect(viewer.code).toBe(1);
    expect(failure(viewer).hint).toContain('you vote as victor (viewer)');
    const admin = await tf(['approvals', 'approve', approval.id]);
    expect(admin.code).toBe(1);
    expect(failure(admin).hint).toContain('you vote as bootstrap-admin (admin)');
    const afterRefusal = await waitFor(
      async () => (json(await tf(['approvals', 'list', '--json'], as('alice'))).approvals as any[]).find((a) => a.id === approval.id && a.votes.length > 0),
      { timeoutMs: 15_000, intervalMs: 300, what: 'the refused vote in the audit record' },
    );
    expect(afterRefusal).toMatchObject({ status: 'PENDING', votes: [{ voter: 'bootstrap-admin', outcome: 'REFUSED' }] });
    expect(github.requests.length).toBe(before);

    const approved = await tf(['approvals', 'approve', approval.id, '--comment', 'looks right'], as('alice'));
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approved ${approval.id} as alice (approver): granted (alice)`);
    const res = await held;
    expect(res.status).toBe(201);
    const reached = github.requests.slice(before);
    expect(reached.map((q) => `${q.method} ${q.url}`)).toEqual(['POST /repos/acme/widgets/issues']);
    expect(reached[0]!.authorized).toBe(true);

    const twice = await tf(['approvals', 'approve', approval.id], as('alice'));
    expect(twice.code).toBe(1);
    expect(failure(twice).hint).toContain('nothing was changed');
  });

  it('deny answers the held agent 403; bad ids are refused before anything is sent', async () => {
    const held = openIssue('Please delete everything');
    const approval = await nextPending();
    const denied = json(await tf(['approvals', 'deny', approval.id, '--reason', 'not today', '--json'], as('alice')));
    expect(denied).toMatchObject({ approvalId: approval.id, status: 'DENIED', deniedBy: 'alice', voter: 'alice', voterRole: 'approver', vote: 'deny' });
    const res = await held;
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ status: 403, reason: 'not today' });

    expect(failure(await tf(['approvals', 'approve', 'abc'], as('alice'))).reason).toBe('tf: "abc" is not an approval id');
    expect(failure(await tf(['approvals', 'approve'], as('alice'))).hint).toContain('tf approvals list');
    const unknown = await tf(['approvals', 'deny', '00000000-0000-7000-8000-000000000000'], as('alice'));
    expect(unknown.code).toBe(1);
    const noToken = await tf(['approvals', 'list'], { TF_API_TOKEN: 'tfa_not_a_token_anyone_issued_000000' });
    expect(noToken.code).toBe(1);

    const recent = json(await tf(['approvals', 'list', '--recent', '5', '--json'], as('victor')));
    expect(recent.viewer).toEqual({ name: 'victor', role: 'VIEWER' });
    expect(recent.approvals.map((a: any) => a.status).sort()).toEqual(['CONSUMED', 'DENIED']);
    expect(json(await tf(['approvals', 'list', '--json'], as('alice'))).approvals).toEqual([]);
  });
});

describe('tf audit', () => {
  it('tail shows the latest decisions with their rules, and --follow prints each new one once', async () => {
    const follow = stack.spawnTf(['audit', 'tail', '--follow', '--json', '--limit', '0', '--agent', 'cli-audit'], { cwd: dir });
    await waitFor(() => follow.stderr().includes('Following new decisions'), { timeoutMs: 20_000, what: 'tail --follow to start' });
    expect((await readRepo()).status).toBe(200);
    expect((await deleteRepo()).status).toBe(403);
    await follow.waitForOutput(/"decision":"deny"/, 20_000);
    follow.child.kill('SIGINT');
    const ended = await follow.done;
    expect(ended.code).toBe(0);
    const lines = ended.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { actionType: 'github.repo.get', decision: 'allow', rule: 'allow-reads', agentId: 'cli-audit', method: 'GET', url: 'https://api.github.com/repos/acme/widgets' },
      { actionType: 'github.repo.delete', decision: 'deny', rule: 'deny-repo-delete', reason: 'Repository deletion is not allowed through agents' },
    ]);

    const recent = await tf(['audit', 'tail', '--limit', '2']);
    expect(recent.code).toBe(0);
    const [first, second] = recent.stdout.trim().split('\n');
    expect(first).toMatch(/allow\s+cli-audit {2}github\.repo\.get {2}acme\/widgets/);
    expect(second).toMatch(/deny\s+cli-audit {2}github\.repo\.delete {2}acme\/widgets .*deny-repo-delete: Repository deletion is not allowed through agents/);
    // An approval that was denied is a require_approval decision; only policy denies are listed.
    const denies = (await tf(['audit', 'tail', '--json', '--decision', 'deny'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(denies).toMatchObject([{ actionType: 'github.repo.delete', decision: 'deny' }]);
    const held = (await tf(['audit', 'tail', '--json', '--decision', 'require_approval'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(held).toMatchObject([{ actionType: 'github.issue.create', rule: 'approve-issue-create' }, { actionType: 'github.issue.create', rule: 'approve-issue-create' }]);
    expect(failure(await tf(['audit', 'tail', '--decision', 'maybe'])).reason).toBe('tf: --decision "maybe" is not a decision');
  });

  it('replay rebuilds the read models with progress and swaps them in; the audit API answers the same', async () => {
    await auditedActions(stack, run.runId, sent);
    const actionsOf = async () => (await stack.graphql<{ actions: { nodes: unknown[] } }>(`query($runId: ID!) { actions(filter: { runId: $runId }, first: 100) { nodes { id type decision completion { outcome status } } } }`, { runId: run.runId })).actions.nodes;
    const before = await actionsOf();
    expect(before).toHaveLength(sent);
    const r = await tf(['audit', 'replay']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rebuilding: \d+ events/);
    expect(r.stderr).toContain('swapping in the rebuilt read models');
    expect(r.stdout).toMatch(/^Replayed \d+ events into fresh read models in .* and swapped them in \(generation \d+\)\.$/m);
    expect(await actionsOf()).toEqual(before);
    const again = json(await tf(['audit', 'replay', '--json']));
    expect(again.events).toBeGreaterThanOrEqual(sent * 3);
    expect(Number(again.generation)).toBeGreaterThan(1);
  });

  it('export streams a checkable file; verify finds the log intact, then names a tampered event in the store and in a file', async () => {
    // Everything recorded so far sealed into the chain.
    await waitFor(async () => json(await tf(['audit', 'verify', '--json'])).unsealedEvents === 0, { timeoutMs: 30_000, intervalMs: 500, what: 'the chain sealer to catch up' });
    const intact = await tf(['audit', 'verify']);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^The audit log is intact: \d+ events match the sealed chain/m);

    const exported = await tf(['audit', 'export', '--out', 'audit.jsonl']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/Exported \d+ events and \d+ signed checkpoints/);
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ record: 'header', format: 'tameflare.audit.export' });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ record: 'end' });
    const csv = await tf(['audit', 'export', '--format', 'csv', '--since', '1h', '--out', 'audit.csv']);
    expect(csv.code, csv.stderr).toBe(0);
    for (const f of ['audit.jsonl', 'audit.csv']) {
      const ok = await tf(['audit', 'verify', '--file', f, '--json']);
      expect(json(ok)).toMatchObject({ ok: true, selfAttested: false, problem: null });
    }
    expect(failure(await tf(['audit', 'export', '--format', 'xml'])).reason).toBe('tf: --format "xml" is not an export format');

    // One decision in the file rewritten from deny to allow.
    const i = lines.findIndex((l) => l.includes('"type":"ActionDecided"') && l.includes('"decision":"deny"'));
    expect(i).toBeGreaterThan(0);
    const position = JSON.parse(lines[i]!).position as string;
    writeFileSync(join(dir, 'tampered.jsonl'), [...lines.slice(0, i), lines[i]!.replace('"decision":"deny"', '"decision":"allow"'), ...lines.slice(i + 1)].join('\n') + '\n');
    const fileCheck = await tf(['audit', 'verify', '--file', 'tampered.jsonl']);
    expect(fileCheck.code).toBe(1);
    expect(failure(fileCheck).reason).toMatch(new RegExp(`^tf: modified at position ${position} \\(line ${i + 1} of tampered\\.jsonl\\): `));

    // The same in the event store itself.
    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    try {
      const eventId = JSON.parse(lines[i]!).eventId as string;
      await client.query(`UPDATE tf_events.events SET data = json_build_object('tampered', true) WHERE event_id = $1`, [eventId]);
    } finally {
      await client.end();
    }
    const storeCheck = await tf(['audit', 'verify', '--json']);
    expect(storeCheck.code).toBe(1);
    expect(JSON.parse(storeCheck.stdout)).toMatchObject({ ok: false, problem: { kind: 'modified', position } });
    const human = await tf(['audit', 'verify']);
    expect(human.code).toBe(1);
    expect(failure(human).reason).toMatch(new RegExp(`^tf: modified at position ${position}: event [0-9a-f-]{36} at position ${position} was modified`));
    expect(failure(human).hint).toContain('investigate');
  });
});
