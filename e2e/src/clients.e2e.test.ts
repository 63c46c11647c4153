/**
 * The client matrix: each client runs through `tf run` (the real CLI) unchanged, against a fake
 * GitHub over HTTPS. For each: the read is allowed and reaches GitHub with the credential the
 * gateway injected (the agent's environment holds no key), the delete is refused with a 403
 * problem document and never reaches GitHub, and both are in the audit record.
 *
 * To add a client: an agent under harness/agents that prints the harness's JSON lines, and a row
 * in CLIENTS.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS, auditedActions, parseAgentLines, runSummaryOf, startTfStack, type TfStack } from './harness/index.ts';

interface ClientCase {
  name: string;
  command: string[];
  /** Whether the agent reports on its own environment (curl does not). */
  checksEnvironment: boolean;
  /** A Problem header the client exposes. */
  seesHeaders: boolean;
}

const NODE_20 = '/usr/bin/node';
const PYTHON = '/usr/bin/python3';

const CLIENTS: ClientCase[] = [
  { name: 'curl', command: ['sh', AGENTS.githubCurl], checksEnvironment: false, seesHeaders: false },
  { name: 'python-requests', command: [PYTHON, AGENTS.githubPython, 'requests'], checksEnvironment: true, seesHeaders: true },
  // aiohttp ignores proxy variables by default: governed only through tf run's sitecustomize shim.
  { name: 'python-aiohttp', command: [PYTHON, AGENTS.githubPython, 'aiohttp'], checksEnvironment: true, seesHeaders: true },
  { name: 'node24-fetch', command: [process.execPath, AGENTS.githubFetch], checksEnvironment: true, seesHeaders: true },
  { name: 'node20-fetch', command: [NODE_20, AGENTS.githubFetch], checksEnvironment: true, seesHeaders: true },
  { name: 'octokit', command: [process.execPath, AGENTS.githubOctokit], checksEnvironment: true, seesHeaders: true },
  // Node 20 has no NODE_USE_ENV_PROXY: these two go through the preload's global-agent (http/https).
  { name: 'node20-axios', command: [NODE_20, AGENTS.githubAxiosGot, 'axios'], checksEnvironment: true, seesHeaders: true },
  { name: 'node20-got', command: [NODE_20, AGENTS.githubAxiosGot, 'got'], checksEnvironment: true, seesHeaders: true },
];

let stack: TfStack;
beforeAll(async () => {
  stack = await startTfStack({ providers: ['github'] });
}, 180_000);
afterAll(async () => stack?.stop(), 60_000);

describe.each(CLIENTS)('$name through tf run', (c) => {
  it('gets the read with the injected credential, a 403 problem for the delete, and both audited', async () => {
    if (c.command[0]!.startsWith('/')) expect(existsSync(c.command[0]!), `${c.command[0]} must be installed`).toBe(true);
    const github = stack.upstream('github');
    const before = github.requests.length;
    const secretSha = createHash('sha256').update(stack.secret('github')).digest('hex');
    const r = await stack.tf(['run', '--json', '--', `e2e-${c.name}`, ...c.command], { env: { TF_E2E_SECRET_SHA256: secretSha } });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const lines = parseAgentLines(r.stdout);

    expect(lines.read!.status, JSON.stringify(lines.read!.body)).toBe(200);
    expect(lines.read!.body).toMatchObject({ full_name: 'acme/widgets' });
    const reached = github.requests.slice(before);
    expect(reached.map((q) => `${q.method} ${q.url}`)).toEqual(['GET /repos/acme/widgets']);
    expect(reached[0]!.authorized).toBe(true);
    expect(reached[0]!.headers['proxy-authorization']).toBeUndefined();

    expect(lines.delete!.status).toBe(403);
    expect(lines.delete!.contentType).toContain('application/problem+json');
    expect(lines.delete!.body).toMatchObject({ status: 403, action: 'github.repo.delete', rule: 'deny-repo-delete', reason: 'Repository deletion is not allowed through agents' });
    expect(lines.delete!.body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    if (c.seesHeaders) expect(lines.delete!.shouldRetry).toBe('false');
    if (c.checksEnvironment) expect(lines.env!.secretInEnvironment).toBe(false);

    const summary = runSummaryOf(r);
    expect(summary.actions).toMatchObject({ total: 2, allowed: 1, denied: 1 });
    const audited = await auditedActions(stack, summary.runId, 2);
    expect(audited).toMatchObject([
      { type: 'github.repo.get', decided: { decision: 'ALLOW' }, credential: { secretName: 'github-token' }, completion: { outcome: 'COMPLETED', status: 200 } },
      { type: 'github.repo.delete', decided: { decision: 'DENY', decidingRule: 'deny-repo-delete' }, credential: null, completion: { outcome: 'DENIED', status: 403 } },
    ]);
  }, 60_000);
});
