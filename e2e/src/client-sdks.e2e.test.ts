/**
 * The rest of the client matrix, through `tf run` (the real CLI) unchanged, against fake APIs over
 * HTTPS: Python urllib, httpx and aiohttp (Debian's python3) and axios against GitHub, and the
 * real Stripe, Slack and OpenAI SDKs against theirs. For each: the allowed call reaches the API
 * with the credential the gateway injected (the agent holds no key, or a placeholder the gateway
 * replaces), the denied call gets the 403 problem document and never reaches the API, the SDK
 * does not retry it, and both are in the audit record. One stack for the whole file.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeProvider } from '@tameflare/stack/fake-upstreams';
import { AGENTS, auditedActions, parseAgentLines, runSummaryOf, startTfStack, type TfStack } from './harness/index.ts';

const PYTHON = '/usr/bin/python3';
const agent = (file: string) => join(import.meta.dirname, 'agents', file);

const POLICY = `
version: 1
name: client-matrix
rules:
  - id: deny-repo-delete
    effect: deny
    match: { actions: [github.repo.delete] }
    reason: Repository deletion is not allowed through agents
  - id: deny-customer-delete
    effect: deny
    match: { actions: [stripe.customer.delete] }
    reason: Deleting Stripe customers is not allowed through agents
  - id: deny-channel-archive
    effect: deny
    match: { actions: [slack.conversations.archive] }
    reason: Agents may not archive Slack channels
  - id: deny-file-delete
    effect: deny
    match: { actions: [openai.file.delete] }
    reason: Agents may not delete OpenAI files
  - id: allow-messages-and-chat
    effect: allow
    match: { actions: [slack.chat.postMessage, openai.chat.create] }
  - id: allow-reads
    effect: allow
    match: { actions: ["**"] }
    when: action.risk == "read"
`;

interface ClientCase {
  name: string;
  provider: FakeProvider;
  command: string[];
  allowed: { call: string; upstream: string; type: string; body: Record<string, unknown> };
  denied: { call: string; type: string; rule: string; reason: string };
}

const github = (name: string, command: string[]): ClientCase => ({
  name,
  provider: 'github',
  command,
  allowed: { call: 'read', upstream: 'GET /repos/acme/widgets', type: 'github.repo.get', body: { full_name: 'acme/widgets' } },
  denied: { call: 'delete', type: 'github.repo.delete', rule: 'deny-repo-delete', reason: 'Repository deletion is not allowed through agents' },
});

const CLIENTS: ClientCase[] = [
  github('python-urllib', [PYTHON, AGENTS.githubPython, 'urllib']),
  github('python-httpx', [PYTHON, AGENTS.githubPython, 'httpx']),
  github('python-aiohttp', [PYTHON, AGENTS.githubPython, 'aiohttp']),
  github('axios', [process.execPath, agent('axios-calls.mjs')]),
  {
    name: 'stripe-sdk',
    provider: 'stripe',
    command: [process.execPath, agent('stripe-calls.mjs')],
    allowed: { call: 'read', upstream: 'GET /v1/charges/ch_e2e_123', type: 'stripe.charge.retrieve', body: { id: 'ch_e2e_123', object: 'charge' } },
    denied: { call: 'delete', type: 'stripe.customer.delete', rule: 'deny-customer-delete', reason: 'Deleting Stripe customers is not allowed through agents' },
  },
  {
    name: 'slack-web-api',
    provider: 'slack',
    command: [process.execPath, agent('slack-calls.mjs')],
    allowed: { call: 'post', upstream: 'POST /api/chat.postMessage', type: 'slack.chat.postMessage', body: { ok: true, channel: 'C0E2E' } },
    denied: { call: 'archive', type: 'slack.conversations.archive', rule: 'deny-channel-archive', reason: 'Agents may not archive Slack channels' },
  },
  {
    name: 'openai-sdk',
    provider: 'openai',
    command: [process.execPath, agent('openai-calls.mjs')],
    allowed: { call: 'chat', upstream: 'POST /v1/chat/completions', type: 'openai.chat.create', body: { object: 'chat.completion' } },
    denied: { call: 'delete', type: 'openai.file.delete', rule: 'deny-file-delete', reason: 'Agents may not delete OpenAI files' },
  },
];

let stack: TfStack;
beforeAll(async () => {
  stack = await startTfStack({ providers: ['github', 'stripe', 'slack', 'openai'], policy: POLICY });
}, 180_000);
afterAll(async () => stack?.stop(), 60_000);

describe.each(CLIENTS)('$name through tf run', (c) => {
  it('gets the allowed call with the injected credential, a 403 problem for the denied one (not retried), and both audited', async () => {
    expect(existsSync(c.command[0]!), `${c.command[0]} must be installed`).toBe(true);
    const upstream = stack.upstream(c.provider);
    const before = upstream.requests.length;
    const secretSha = createHash('sha256').update(stack.secret(c.provider)).digest('hex');
    const r = await stack.tf(['run', '--json', '--', `e2e-${c.name}`, ...c.command], { env: { TF_E2E_SECRET_SHA256: secretSha } });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const lines = parseAgentLines(r.stdout);

    const allowed = lines[c.allowed.call]!;
    expect(allowed.status, JSON.stringify(allowed)).toBe(200);
    expect(allowed.body).toMatchObject(c.allowed.body);
    // Exactly one request reached the API, the allowed one, carrying the vault's credential
    // (the fake refuses anything else) and none of the gateway's own headers.
    const reached = upstream.requests.slice(before);
    expect(reached.map((q) => `${q.method} ${q.url}`)).toEqual([c.allowed.upstream]);
    expect(reached[0]!.authorized).toBe(true);
    expect(reached[0]!.headers['proxy-authorization']).toBeUndefined();

    const denied = lines[c.denied.call]!;
    expect(denied.status, JSON.stringify(denied)).toBe(403);
    expect(denied.contentType).toContain('application/problem+json');
    expect(denied.body).toMatchObject({ status: 403, action: c.denied.type, rule: c.denied.rule, reason: c.denied.reason });
    expect(denied.body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(denied.shouldRetry).toBe('false');
    expect(lines.env!.secretInEnvironment).toBe(false);

    // Two actions, not more: no SDK retried the deny.
    const summary = runSummaryOf(r);
    expect(summary.actions, JSON.stringify(summary)).toMatchObject({ total: 2, allowed: 1, denied: 1 });
    const audited = await auditedActions(stack, summary.runId, 2);
    expect(audited).toMatchObject([
      { type: c.allowed.type, decided: { decision: 'ALLOW' }, credential: { secretName: `${c.provider}-token` }, completion: { outcome: 'COMPLETED', status: 200 } },
      { type: c.denied.type, decided: { decision: 'DENY', decidingRule: c.denied.rule }, credential: null, completion: { outcome: 'DENIED', status: 403 } },
    ]);
  }, 60_000);
});
