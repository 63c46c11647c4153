/**
 * The requests real SDKs send, captured from the libraries themselves against a local server,
 * classified as the ingress would see them on the provider's host.
 */
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Octokit } from '@octokit/rest';
import { WebClient } from '@slack/web-api';
import OpenAI, { toFile } from 'openai';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionSchema } from '@tameflare/contracts';
import { createClassifier } from './index.ts';
import { defaultAnswer, startCaptureServer, type CaptureServer, type CapturedRequest } from './test/capture-server.ts';
import { Value } from '@sinclair/typebox/value';

let server: CaptureServer;
beforeAll(async () => {
  server = await startCaptureServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.handler = defaultAnswer;
});

const classifier = createClassifier({
  connectors: [
    { id: 'github', kind: 'github' },
    { id: 'stripe', kind: 'stripe' },
    { id: 'slack', kind: 'slack' },
    { id: 'openai', kind: 'openai' },
    { id: 'anthropic', kind: 'anthropic' },
    { id: 'tools', kind: 'mcp', domains: ['mcp.internal.test'], options: { path: '/mcp' } },
  ],
  githubEnterpriseHosts: ['github.acme.test'],
});

const octokit = () => new Octokit({ baseUrl: server.url, auth: 'ghp_placeholder', request: { retries: 0 } });
const ghes = () => new Octokit({ baseUrl: `${server.url}/api/v3`, auth: 'ghp_placeholder' });
const stripe = () => new Stripe('sk_test_placeholder', { host: '127.0.0.1', port: Number(new URL(server.url).port), protocol: 'http', maxNetworkRetries: 0 });
const slack = () => new WebClient('xoxb-placeholder', { slackApiUrl: `${server.url}/api/`, retryConfig: { retries: 0 } });
const openai = () => new OpenAI({ apiKey: 'sk-placeholder', baseURL: `${server.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: 'sk-ant-placeholder', baseURL: server.url, maxRetries: 0 });

interface Case {
  name: string;
  host: string;
  send: () => Promise<unknown>;
  /** Which captured request to classify (default: the last). */
  pick?: (requests: CapturedRequest[]) => CapturedRequest | undefined;
  type: string;
  risk: 'read' | 'write' | 'destructive';
  resource?: string | null;
  params?: Record<string, unknown>;
  notes?: string[];
}

const cases: Case[] = [
  // GitHub through @octokit/rest
  { name: 'octokit repos.delete', host: 'api.github.com', send: () => octokit().rest.repos.delete({ owner: 'octo', repo: 'hello' }), type: 'github.repo.delete', risk: 'destructive', resource: 'octo/hello' },
  { name: 'octokit repos.get', host: 'api.github.com', send: () => octokit().rest.repos.get({ owner: 'octo', repo: 'hello' }), type: 'github.repo.get', risk: 'read', resource: 'octo/hello' },
  {
    name: 'octokit pulls.merge',
    host: 'api.github.com',
    send: () => octokit().rest.pulls.merge({ owner: 'octo', repo: 'hello', pull_number: 42, merge_method: 'squash' }),
    type: 'github.pr.merge',
    risk: 'write',
    params: { owner: 'octo', repo: 'hello', pull_number: 42, merge_method: 'squash' },
  },
  {
    name: 'octokit pulls.create',
    host: 'api.github.com',
    send: () => octokit().rest.pulls.create({ owner: 'octo', repo: 'hello', title: 'Fix', head: 'fix/typo', base: 'main' }),
    type: 'github.pr.create',
    risk: 'write',
    params: { head: 'fix/typo', base: 'main', branch: 'main', title: 'Fix' },
  },
  {
    name: 'octokit pulls.update closing',
    host: 'api.github.com',
    send: () => octokit().rest.pulls.update({ owner: 'octo', repo: 'hello', pull_number: 7, state: 'closed' }),
    type: 'github.pr.close',
    risk: 'write',
    params: { state: 'closed', pull_number: 7 },
  },
  {
    name: 'octokit git.deleteRef on a branch with a slash',
    host: 'api.github.com',
    send: () => octokit().rest.git.deleteRef({ owner: 'octo', repo: 'hello', ref: 'heads/feature/login' }),
    type: 'github.branch.delete',
    risk: 'destructive',
    params: { branch: 'feature/login', ref: 'heads/feature/login' },
  },
  {
    name: 'octokit git.createRef for a tag',
    host: 'api.github.com',
    send: () => octokit().rest.git.createRef({ owner: 'octo', repo: 'hello', ref: 'refs/tags/v1.2.0', sha: 'a'.repeat(40) }),
    type: 'github.tag.create',
    risk: 'write',
    params: { tag: 'v1.2.0' },
  },
  {
    name: 'octokit repos.createOrUpdateFileContents (new file in a folder)',
    host: 'api.github.com',
    send: () => octokit().rest.repos.createOrUpdateFileContents({ owner: 'octo', repo: 'hello', path: 'docs/guide/intro.md', message: 'docs', content: Buffer.from('hello').toString('base64'), branch: 'main' }),
    type: 'github.file.create',
    risk: 'write',
    params: { path: 'docs/guide/intro.md', branch: 'main', message: 'docs' },
  },
  {
    name: 'octokit repos.deleteFile',
    host: 'api.github.com',
    send: () => octokit().rest.repos.deleteFile({ owner: 'octo', repo: 'hello', path: 'README.md', message: 'rm', sha: 'b'.repeat(40), branch: 'release/2.0' }),
    type: 'github.file.delete',
    risk: 'destructive',
    params: { path: 'README.md', branch: 'release/2.0' },
  },
  {
    name: 'octokit repos.getBranchProtection on a branch with a slash',
    host: 'api.github.com',
    send: () => octokit().rest.repos.getBranchProtection({ owner: 'octo', repo: 'hello', branch: 'release/1.0' }),
    type: 'github.repos.get_branch_protection',
    risk: 'read',
    params: { branch: 'release/1.0' },
  },
  {
    name: 'octokit issues.create',
    host: 'api.github.com',
    send: () => octokit().rest.issues.create({ owner: 'octo', repo: 'hello', title: 'Bug', labels: ['bug', 'p1'] }),
    type: 'github.issue.create',
    risk: 'write',
    params: { title: 'Bug', labels: ['bug', 'p1'] },
  },
  {
    name: 'octokit issues.listForRepo with query',
    host: 'api.github.com',
    send: () => octokit().rest.issues.listForRepo({ owner: 'octo', repo: 'hello', state: 'open', per_page: 5 }),
    type: 'github.issue.list',
    risk: 'read',
    params: { state: 'open', per_page: '5' },
  },
  {
    name: 'octokit actions.createWorkflowDispatch',
    host: 'api.github.com',
    send: () => octokit().rest.actions.createWorkflowDispatch({ owner: 'octo', repo: 'hello', workflow_id: 'deploy.yml', ref: 'main' }),
    type: 'github.workflow.dispatch',
    risk: 'write',
    params: { workflow_id: 'deploy.yml', ref: 'main' },
  },
  { name: 'octokit orgs.removeMember', host: 'api.github.com', send: () => octokit().rest.orgs.removeMember({ org: 'acme', username: 'mallory' }), type: 'github.orgs.remove_member', risk: 'destructive', resource: 'orgs/acme' },
  {
    name: 'octokit graphql mutation with variables',
    host: 'api.github.com',
    send: () => octokit().graphql('mutation($id: ID!) { deleteRef(input: { refId: $id }) { clientMutationId } }', { id: 'REF_kwDOA' }),
    type: 'github.graphql.deleteRef',
    risk: 'destructive',
    params: { refId: 'REF_kwDOA' },
  },
  {
    name: 'octokit graphql createCommitOnBranch',
    host: 'api.github.com',
    send: () =>
      octokit().graphql(
        `mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }`,
        { input: { branch: { repositoryNameWithOwner: 'octo/hello', branchName: 'main' }, message: { headline: 'x' }, expectedHeadOid: 'c'.repeat(40) } },
      ),
    type: 'github.graphql.createCommitOnBranch',
    risk: 'write',
    resource: 'octo/hello',
    params: { 'branch.branchName': 'main', 'branch.repositoryNameWithOwner': 'octo/hello' },
  },
  {
    name: 'octokit graphql query',
    host: 'api.github.com',
    send: () => octokit().graphql('query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { issues(first: 5) { totalCount } } }', { owner: 'octo', name: 'hello' }),
    type: 'github.graphql.query',
    risk: 'read',
    resource: 'octo/hello',
    params: { fields: ['repository'] },
  },
  { name: 'octokit against GitHub Enterprise Server', host: 'github.acme.test', send: () => ghes().rest.repos.delete({ owner: 'octo', repo: 'hello' }), type: 'github.repo.delete', risk: 'destructive', resource: 'octo/hello' },
  {
    name: 'octokit graphql against GitHub Enterprise Server',
    host: 'github.acme.test',
    send: () => ghes().graphql('mutation { addStar(input: { starrableId: "R_1" }) { clientMutationId } }'),
    type: 'github.graphql.addStar',
    risk: 'write',
    params: { starrableId: 'R_1' },
  },

  // Stripe through the official SDK (form-encoded bodies)
  {
    name: 'stripe refunds.create',
    host: 'api.stripe.com',
    send: () => stripe().refunds.create({ charge: 'ch_3Nabc', amount: 5000, reason: 'requested_by_customer' }),
    type: 'stripe.refund.create',
    risk: 'write',
    resource: 'ch_3Nabc',
    params: { charge: 'ch_3Nabc', amount: 5000, reason: 'requested_by_customer' },
  },
  {
    name: 'stripe paymentIntents.create with metadata',
    host: 'api.stripe.com',
    send: () => stripe().paymentIntents.create({ amount: 129900, currency: 'eur', customer: 'cus_9', metadata: { order_id: '6735' }, automatic_payment_methods: { enabled: true } }),
    type: 'stripe.payment_intent.create',
    risk: 'write',
    resource: 'cus_9',
    params: { amount: 129900, currency: 'eur', customer: 'cus_9', 'metadata.order_id': '6735', 'automatic_payment_methods.enabled': 'true' },
  },
  { name: 'stripe paymentIntents.cancel', host: 'api.stripe.com', send: () => stripe().paymentIntents.cancel('pi_123'), type: 'stripe.payment_intent.cancel', risk: 'destructive', resource: 'pi_123' },
  { name: 'stripe customers.del', host: 'api.stripe.com', send: () => stripe().customers.del('cus_42'), type: 'stripe.customer.delete', risk: 'destructive', resource: 'cus_42', params: { id: 'cus_42' } },
  { name: 'stripe customers.list', host: 'api.stripe.com', send: () => stripe().customers.list({ limit: 3, email: 'a@example.com' }), type: 'stripe.customer.list', risk: 'read', params: { limit: '3', email: 'a@example.com' } },
  {
    name: 'stripe payouts.create on a connected account',
    host: 'api.stripe.com',
    send: () => stripe().payouts.create({ amount: 10000, currency: 'usd' }, { stripeAccount: 'acct_1X' }),
    type: 'stripe.payout.create',
    risk: 'write',
    params: { amount: 10000, currency: 'usd', stripe_account: 'acct_1X' },
  },
  {
    name: 'stripe transfers.create',
    host: 'api.stripe.com',
    send: () => stripe().transfers.create({ amount: 400, currency: 'usd', destination: 'acct_2Y' }),
    type: 'stripe.transfer.create',
    risk: 'write',
    resource: 'acct_2Y',
    params: { amount: 400, destination: 'acct_2Y' },
  },
  { name: 'stripe subscriptions.cancel', host: 'api.stripe.com', send: () => stripe().subscriptions.cancel('sub_77'), type: 'stripe.subscription.cancel', risk: 'destructive', resource: 'sub_77' },
  { name: 'stripe checkout.sessions.create', host: 'api.stripe.com', send: () => stripe().checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com/ok', line_items: [{ price: 'price_1', quantity: 2 }] }), type: 'stripe.checkout.session.create', risk: 'write', params: { mode: 'payment', 'line_items.0.price': 'price_1', 'line_items.0.quantity': 2 } },

  // Slack through @slack/web-api
  {
    name: 'slack chat.postMessage',
    host: 'slack.com',
    send: () => slack().chat.postMessage({ channel: 'C0123', text: 'Deploy finished' }),
    type: 'slack.chat.postMessage',
    risk: 'write',
    resource: 'C0123',
    params: { channel: 'C0123', text: 'Deploy finished' },
  },
  { name: 'slack conversations.archive', host: 'slack.com', send: () => slack().conversations.archive({ channel: 'C0456' }), type: 'slack.conversations.archive', risk: 'destructive', resource: 'C0456' },
  { name: 'slack conversations.history', host: 'slack.com', send: () => slack().conversations.history({ channel: 'C0456', limit: 10 }), type: 'slack.conversations.history', risk: 'read', params: { channel: 'C0456', limit: '10' } },
  { name: 'slack users.list', host: 'slack.com', send: () => slack().users.list({}), type: 'slack.users.list', risk: 'read' },
  { name: 'slack chat.delete', host: 'slack.com', send: () => slack().chat.delete({ channel: 'C1', ts: '1700000000.000100' }), type: 'slack.chat.delete', risk: 'destructive', params: { ts: '1700000000.000100' } },

  // OpenAI through the official SDK
  {
    name: 'openai chat.completions.create (streaming)',
    host: 'api.openai.com',
    send: async () => {
      server.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: [DONE]\n\n');
      };
      const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const _ of stream) void _;
    },
    type: 'openai.chat.create',
    risk: 'write',
    params: { model: 'gpt-4o-mini', stream: true },
  },
  { name: 'openai responses.create', host: 'api.openai.com', send: () => openai().responses.create({ model: 'gpt-4.1', input: 'hello' }), type: 'openai.response.create', risk: 'write', params: { model: 'gpt-4.1', input: 'hello' } },
  { name: 'openai embeddings.create', host: 'api.openai.com', send: () => openai().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] }), type: 'openai.embedding.create', risk: 'write', params: { model: 'text-embedding-3-small', input: ['a', 'b'] } },
  { name: 'openai files.create (multipart upload)', host: 'api.openai.com', send: async () => openai().files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'data.jsonl'), purpose: 'batch' }), type: 'openai.file.upload', risk: 'write' },
  { name: 'openai files.list', host: 'api.openai.com', send: () => openai().files.list(), type: 'openai.file.list', risk: 'read' },
  { name: 'openai files.delete', host: 'api.openai.com', send: () => openai().files.delete('file-abc'), type: 'openai.file.delete', risk: 'destructive', resource: 'file-abc' },
  { name: 'openai files.content', host: 'api.openai.com', send: () => openai().files.content('file-abc'), type: 'openai.file.content', risk: 'read' },

  // Anthropic through the official SDK
  {
    name: 'anthropic messages.create',
    host: 'api.anthropic.com',
    send: () => anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] }),
    type: 'anthropic.message.create',
    risk: 'write',
    params: { model: 'claude-sonnet-4-5', max_tokens: 256 },
  },
  { name: 'anthropic messages.countTokens', host: 'api.anthropic.com', send: () => anthropic().messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }), type: 'anthropic.message.count_tokens', risk: 'write', params: { model: 'claude-sonnet-4-5' } },
  { name: 'anthropic models.list', host: 'api.anthropic.com', send: () => anthropic().models.list(), type: 'anthropic.model.list', risk: 'read' },
];

describe('requests captured from the real SDKs', () => {
  it.each(cases)('$name → $type', async (c) => {
    await c.send();
    const req = (c.pick ?? ((r) => r[r.length - 1]))(server.requests);
    expect(req, 'the SDK sent a request').toBeDefined();
    const action = classifier.classify({ host: c.host, port: 443, method: req!.method, path: req!.path, query: req!.query, headers: req!.headers, body: req!.body, bodyTruncated: false });
    expect(Value.Check(ActionSchema, action), JSON.stringify([...Value.Errors(ActionSchema, action)].slice(0, 2))).toBe(true);
    expect(action.type).toBe(c.type);
    expect(action.risk).toBe(c.risk);
    if (c.resource !== undefined) expect(action.resource).toBe(c.resource);
    if (c.params) expect(action.params).toMatchObject(c.params);
    expect(action.notes).toEqual(c.notes ?? []);
    // The SDKs authenticate with placeholders: no credential-bearing header value may reach the action.
    expect(JSON.stringify(action)).not.toMatch(/placeholder/);
  });
});

describe('MCP over Streamable HTTP, captured from the MCP SDK client against the MCP SDK server', () => {
  it('classifies initialize, tools/list and tools/call with their arguments', async () => {
    const mcp = new Server({ name: 'files', version: '1.0.0' }, { capabilities: { tools: {} } });
    mcp.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'delete_file', description: 'Deletes a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }],
    }));
    mcp.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: `deleted ${String(req.params.arguments?.path)}` }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), enableJsonResponse: true });
    await mcp.connect(transport);
    server.handler = async (req, res, captured) => {
      await transport.handleRequest(req, res, captured.body ? JSON.parse(captured.body.toString('utf8')) : undefined);
    };
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    await client.listTools();
    const result = await client.callTool({ name: 'delete_file', arguments: { path: '/srv/data/report.csv', recursive: false } });
    expect(result.content).toEqual([{ type: 'text', text: 'deleted /srv/data/report.csv' }]);
    await client.close();
    await mcp.close();

    const actions = server.requests.map((r) => classifier.classify({ host: 'mcp.internal.test', method: r.method, path: r.path, query: r.query, headers: r.headers, body: r.body }));
    const byType = (t: string) => actions.find((a) => a.type === t);
    expect(byType('mcp.rpc.initialize')?.risk).toBe('read');
    expect(byType('mcp.rpc.notifications/initialized')?.risk).toBe('read');
    expect(byType('mcp.rpc.tools/list')?.risk).toBe('read');
    const call = byType('mcp.tool.delete_file');
    expect(call).toMatchObject({ connector: 'tools', risk: 'destructive', operationId: 'tools/call', params: { tool: 'delete_file', path: '/srv/data/report.csv', recursive: false }, notes: [] });
    for (const a of actions) expect(Value.Check(ActionSchema, a)).toBe(true);
  });
});
