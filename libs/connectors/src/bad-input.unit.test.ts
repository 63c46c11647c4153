/**
 * Bad input: each case has a defined result, classified conservatively (never a read), and
 * nothing throws. The same table is in docs/connectors.md.
 */
import { Value } from '@sinclair/typebox/value';
import { ActionSchema, type Action } from '@tameflare/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClassifier, type ClassifyInput } from './index.ts';

const LIMIT = 1024;
const classifier = createClassifier({
  connectors: [
    { id: 'github', kind: 'github' },
    { id: 'stripe', kind: 'stripe' },
    { id: 'slack', kind: 'slack' },
    { id: 'openai', kind: 'openai' },
    { id: 'tools', kind: 'mcp', domains: ['mcp.internal.test'] },
  ],
  bodyParseLimit: LIMIT,
});
const JSON_HEADERS = { 'content-type': 'application/json' };
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

interface Case {
  name: string;
  req: ClassifyInput;
  type: string;
  risk: Action['risk'];
  notes: string[];
  params?: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: 'body that is not valid JSON on a REST route',
    req: { host: 'api.github.com', method: 'PUT', path: '/repos/o/r/pulls/1/merge', headers: JSON_HEADERS, body: Buffer.from('{"merge_method": squash}') },
    type: 'github.pr.merge',
    risk: 'write',
    notes: ['invalid_json'],
  },
  {
    name: 'truncated JSON body (bodyTruncated) on a GET route: never a read',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/o/r', headers: JSON_HEADERS, body: Buffer.from('{"a":'), bodyTruncated: true },
    type: 'github.repo.get',
    risk: 'write',
    notes: ['body_over_limit'],
  },
  {
    name: 'body longer than the parse limit though not flagged: fields are not read',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/refunds', headers: FORM_HEADERS, body: Buffer.from(`charge=ch_1&amount=100&description=${'x'.repeat(LIMIT)}`) },
    type: 'stripe.refund.create',
    risk: 'write',
    notes: ['body_over_limit'],
    params: {},
  },
  {
    name: 'GraphQL body over the parse limit',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_HEADERS, body: Buffer.from('{"query":"query { viewer { login } }"'), bodyTruncated: true },
    type: 'github.graphql.unknown',
    risk: 'destructive',
    notes: ['body_over_limit'],
  },
  {
    name: 'GraphQL document that does not parse',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_HEADERS, body: json({ query: 'query { viewer { login }' }) },
    type: 'github.graphql.unknown',
    risk: 'destructive',
    notes: ['graphql_parse_error'],
  },
  {
    name: 'GraphQL body that is not JSON',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_HEADERS, body: Buffer.from('query { viewer { login } }') },
    type: 'github.graphql.unknown',
    risk: 'destructive',
    notes: ['invalid_json'],
  },
  {
    name: 'GraphQL mutation GitHub does not know',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_HEADERS, body: json({ query: 'mutation { dropEverything(input: {}) { ok } }' }) },
    type: 'github.graphql.unknown',
    risk: 'destructive',
    notes: ['graphql_unknown_field'],
  },
  {
    name: 'GraphQL document with a query and a mutation and no operationName: the riskiest counts',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_HEADERS, body: json({ query: 'query A { viewer { login } } mutation B { deleteIssue(input: {issueId: "I_1"}) { clientMutationId } }' }) },
    type: 'github.graphql.deleteIssue',
    risk: 'destructive',
    notes: ['graphql_ambiguous_operation'],
  },
  {
    name: 'encoded traversal %2e%2e in the path',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/o/r/contents/%2e%2e/%2e%2e/orgs/acme' },
    type: 'github.unknown',
    risk: 'destructive',
    notes: ['encoded_traversal'],
  },
  {
    name: 'double-encoded traversal %252e%252e',
    req: { host: 'api.stripe.com', method: 'GET', path: '/v1/customers/%252e%252e/cus_1' },
    type: 'stripe.unknown',
    risk: 'destructive',
    notes: ['encoded_traversal'],
  },
  {
    name: 'encoded traversal inside one segment (..%2f)',
    req: { host: 'slack.com', method: 'POST', path: '/api/..%2fapi/chat.delete' },
    type: 'slack.unknown',
    risk: 'destructive',
    notes: ['encoded_traversal'],
  },
  {
    name: 'literal dot segment',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/o/r/../../user' },
    type: 'github.unknown',
    risk: 'destructive',
    notes: ['path_traversal'],
  },
  {
    name: 'malformed percent-encoding',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/o/%zz' },
    type: 'github.unknown',
    risk: 'destructive',
    notes: ['invalid_path_encoding'],
  },
  {
    name: 'duplicate query keys on a read: never a read, every value kept',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/o/r/issues', query: 'state=open&state=all' },
    type: 'github.issue.list',
    risk: 'write',
    notes: ['duplicate_query_key'],
    params: { state: ['open', 'all'] },
  },
  {
    name: 'duplicate form fields (Stripe amount twice)',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/refunds', headers: FORM_HEADERS, body: Buffer.from('charge=ch_1&amount=100&amount=990000') },
    type: 'stripe.refund.create',
    risk: 'write',
    notes: ['duplicate_body_key'],
    params: { amount: ['100', '990000'] },
  },
  {
    name: 'the same form field spelled two ways (%61mount)',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/refunds', headers: FORM_HEADERS, body: Buffer.from('charge=ch_1&amount=100&%61mount=990000') },
    type: 'stripe.refund.create',
    risk: 'write',
    notes: ['duplicate_body_key'],
    params: { amount: ['100', '990000'] },
  },
  {
    name: 'duplicate JSON member: the last wins, as upstream parsers read it',
    req: { host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', headers: JSON_HEADERS, body: Buffer.from('{"model":"gpt-4o-mini","messages":[],"model":"o3"}') },
    type: 'openai.chat.create',
    risk: 'write',
    notes: ['duplicate_json_key'],
    params: { model: 'o3' },
  },
  {
    name: 'same field in query and body with different values',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/refunds', query: 'amount=1', headers: FORM_HEADERS, body: Buffer.from('charge=ch_1&amount=500') },
    type: 'stripe.refund.create',
    risk: 'write',
    notes: ['param_conflict'],
    params: { amount: [500, 1] },
  },
  {
    name: 'MCP body that is not JSON',
    req: { host: 'mcp.internal.test', method: 'POST', path: '/mcp', headers: JSON_HEADERS, body: Buffer.from('{"jsonrpc":"2.0","method":"tools/call",') },
    type: 'mcp.rpc.unknown',
    risk: 'destructive',
    notes: ['invalid_json'],
  },
  {
    name: 'MCP tools/call without a tool name',
    req: { host: 'mcp.internal.test', method: 'POST', path: '/mcp', headers: JSON_HEADERS, body: json({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }) },
    type: 'mcp.rpc.unknown',
    risk: 'destructive',
    notes: [],
  },
  {
    name: 'MCP batch: the riskiest message names the action',
    req: {
      host: 'mcp.internal.test',
      method: 'POST',
      path: '/mcp',
      headers: JSON_HEADERS,
      body: json([
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'drop_table', arguments: { table: 'users' } } },
      ]),
    },
    type: 'mcp.tool.drop_table',
    risk: 'destructive',
    notes: ['jsonrpc_batch'],
    params: { table: 'users', methods: ['tools/list', 'tools/call'] },
  },
  {
    name: 'route the description does not have',
    req: { host: 'api.github.com', method: 'POST', path: '/repos/o/r/self-destruct' },
    type: 'github.unknown',
    risk: 'write',
    notes: ['no_route'],
  },
  {
    name: 'unknown host: no connector, denied by the ingress',
    req: { host: 'paste.example.org', method: 'GET', path: '/upload', query: 'data=secret' },
    type: 'http.get',
    risk: 'write',
    notes: ['no_connector'],
  },
  {
    name: 'credential in a form field is redacted',
    req: { host: 'slack.com', method: 'POST', path: '/api/chat.postMessage', headers: FORM_HEADERS, body: Buffer.from('token=xoxb-1-2-3&channel=C1&text=hi') },
    type: 'slack.chat.postMessage',
    risk: 'write',
    notes: ['sensitive_param_redacted'],
    params: { token: '[redacted]', channel: 'C1' },
  },
];

describe('bad input gets a defined, conservative result', () => {
  it.each(cases)('$name', (c) => {
    const action = classifier.classify(c.req);
    expect(Value.Check(ActionSchema, action)).toBe(true);
    expect(action.type).toBe(c.type);
    expect(action.risk).toBe(c.risk);
    expect(action.notes).toEqual(c.notes);
    if (c.params) expect(action.params).toMatchObject(c.params);
    if (c.params && Object.keys(c.params).length === 0) expect(action.params).toEqual({});
  });

  it('never throws and always returns a valid action, whatever the request', () => {
    const hosts = ['api.github.com', 'api.stripe.com', 'slack.com', 'api.openai.com', 'mcp.internal.test', 'unknown.test', ''];
    const bodies = fc.oneof(
      fc.constant(null),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.json().map((s) => Buffer.from(s)),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify({ query: 'mutation { deleteRef(input: {refId: "x"}) { a } }', variables: v, method: 'tools/call', params: v }))),
      fc.string().map((s) => Buffer.from(`a=${s}&a[b]=${s}&${s}=1`)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...hosts),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'get', 'BREW', ''),
        fc.oneof(fc.string(), fc.webPath(), fc.constantFrom('/graphql', '/mcp', '/api/chat.postMessage', '/v1/refunds', '/repos/a/b/git/refs/heads/x')),
        fc.string(),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x'),
        bodies,
        fc.boolean(),
        (host, method, path, query, type, body, truncated) => {
          const action = classifier.classify({ host, method, path, query, headers: { 'content-type': type }, body, bodyTruncated: truncated });
          expect(Value.Check(ActionSchema, action), JSON.stringify(action)).toBe(true);
          // The catch-all guard in classify() must stay a guard: reaching it means a parser threw.
          expect(action.notes).not.toContain('classifier_error');
          if (action.notes.some((n) => ['body_over_limit', 'invalid_json', 'graphql_parse_error', 'encoded_traversal', 'duplicate_query_key'].includes(n))) expect(action.risk).not.toBe('read');
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a hostile input object does not make classify throw', () => {
    const action = classifier.classify({ host: undefined, method: undefined, path: undefined } as unknown as ClassifyInput);
    expect(action.connector).toBe('none');
    expect(Value.Check(ActionSchema, action)).toBe(true);
  });
});
