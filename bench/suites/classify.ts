/**
 * Classification cost per request: `classifier.classify()` on representative requests, REST
 * (GitHub JSON, Stripe form bodies, Slack JSON, OpenAI JSON), GitHub GraphQL and MCP, with
 * small bodies and bodies filled up to the parse limit. One process, warmed up, timed per call.
 */
import { createClassifier, DEFAULT_BODY_PARSE_LIMIT, type ClassifyInput } from '@tameflare/connectors';
import { cpus, loadavg } from 'node:os';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const LIMIT = DEFAULT_BODY_PARSE_LIMIT;
const classifier = createClassifier({
  connectors: [
    { id: 'github', kind: 'github' },
    { id: 'stripe', kind: 'stripe' },
    { id: 'slack', kind: 'slack' },
    { id: 'openai', kind: 'openai' },
    { id: 'anthropic', kind: 'anthropic' },
    { id: 'tools', kind: 'mcp', domains: ['mcp.internal.test'], options: { path: '/mcp' } },
  ],
  bodyParseLimit: LIMIT,
});

const JSON_H = { 'content-type': 'application/json', 'user-agent': 'octokit-rest.js/22.0.1', accept: 'application/vnd.github+json' };
const FORM_H = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Stripe/v1 NodeBindings/23.1.0' };

/** Fills `make(n)` until its JSON/text is as close to `size` bytes as it gets without passing it. */
function fill(size: number, make: (n: number) => string): Buffer {
  let lo = 0;
  let hi = 1;
  while (Buffer.byteLength(make(hi)) <= size) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Buffer.byteLength(make(mid)) <= size) lo = mid;
    else hi = mid;
  }
  return Buffer.from(make(lo));
}

const text = (n: number) => 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(n / 57)).slice(0, n);

interface Bench {
  name: string;
  kind: 'REST' | 'GraphQL' | 'MCP';
  req: ClassifyInput;
}

const benches: Bench[] = [
  { name: 'GitHub DELETE /repos/{owner}/{repo} (no body)', kind: 'REST', req: { host: 'api.github.com', method: 'DELETE', path: '/repos/octo/hello', headers: JSON_H, body: null } },
  {
    name: 'GitHub PUT pulls/{n}/merge, 80 B JSON',
    kind: 'REST',
    req: { host: 'api.github.com', method: 'PUT', path: '/repos/octo/hello/pulls/42/merge', headers: JSON_H, body: Buffer.from('{"merge_method":"squash","commit_title":"Release 1.2","sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"}') },
  },
  {
    name: 'GitHub GET branches/{branch}/protection (multi-segment branch) with query',
    kind: 'REST',
    req: { host: 'api.github.com', method: 'GET', path: '/repos/octo/hello/branches/release/1.0/protection', query: 'per_page=100&page=2', headers: JSON_H, body: null },
  },
  {
    name: `GitHub PUT contents/{path}, JSON at the parse limit (${LIMIT / 1024} KiB, base64 file)`,
    kind: 'REST',
    req: {
      host: 'api.github.com',
      method: 'PUT',
      path: '/repos/octo/hello/contents/docs/guide/intro.md',
      headers: JSON_H,
      body: fill(LIMIT, (n) => JSON.stringify({ message: 'docs: intro', branch: 'main', content: Buffer.from(text(n)).toString('base64') })),
    },
  },
  {
    name: 'Stripe POST /v1/refunds, form body 60 B',
    kind: 'REST',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/refunds', headers: FORM_H, body: Buffer.from('charge=ch_3NabcDEF&amount=5000&reason=requested_by_customer') },
  },
  {
    name: 'Stripe POST /v1/payment_intents, form body with 50 metadata keys (2 KiB)',
    kind: 'REST',
    req: {
      host: 'api.stripe.com',
      method: 'POST',
      path: '/v1/payment_intents',
      headers: FORM_H,
      body: Buffer.from(
        [
          'amount=129900',
          'currency=eur',
          'customer=cus_9s6XKzkNRiz8i3',
          'automatic_payment_methods%5Benabled%5D=true',
          ...Array.from({ length: 50 }, (_, i) => `metadata%5Bkey_${i}%5D=value-${i}-abcdefgh`),
        ].join('&'),
      ),
    },
  },
  {
    name: `Stripe POST /v1/payment_intents, form at the parse limit (${LIMIT / 1024} KiB description)`,
    kind: 'REST',
    req: { host: 'api.stripe.com', method: 'POST', path: '/v1/payment_intents', headers: FORM_H, body: fill(LIMIT, (n) => `amount=129900&currency=eur&customer=cus_9s6X&description=${encodeURIComponent(text(n))}`) },
  },
  {
    name: 'Slack POST /api/chat.postMessage, JSON with blocks (1 KiB)',
    kind: 'REST',
    req: {
      host: 'slack.com',
      method: 'POST',
      path: '/api/chat.postMessage',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify({ channel: 'C0123456', text: 'Deploy finished', blocks: Array.from({ length: 6 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `*Step ${i}* done in 12s` } })) })),
    },
  },
  {
    name: `Slack POST /api/chat.postMessage, JSON at the parse limit (${LIMIT / 1024} KiB of blocks)`,
    kind: 'REST',
    req: {
      host: 'slack.com',
      method: 'POST',
      path: '/api/chat.postMessage',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: fill(LIMIT, (n) => JSON.stringify({ channel: 'C0123456', text: 'Report', blocks: Array.from({ length: n }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `Row ${i}: ${text(40)}` } })) })),
    },
  },
  {
    name: `OpenAI POST /v1/chat/completions, JSON at the parse limit (${LIMIT / 1024} KiB of messages)`,
    kind: 'REST',
    req: {
      host: 'api.openai.com',
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: fill(LIMIT, (n) => JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: text(200) })) })),
    },
  },
  {
    name: 'GitHub GraphQL mutation createCommitOnBranch with variables',
    kind: 'GraphQL',
    req: {
      host: 'api.github.com',
      method: 'POST',
      path: '/graphql',
      headers: JSON_H,
      body: Buffer.from(
        JSON.stringify({
          query: 'mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid url } } }',
          variables: { input: { branch: { repositoryNameWithOwner: 'octo/hello', branchName: 'main' }, message: { headline: 'docs: intro' }, expectedHeadOid: '6dcb09b5b57875f334f61aebed695e2e4193db5e', fileChanges: { additions: [{ path: 'a.md', contents: 'aGVsbG8=' }] } } },
        }),
      ),
    },
  },
  {
    name: 'GitHub GraphQL query repository { issues }',
    kind: 'GraphQL',
    req: { host: 'api.github.com', method: 'POST', path: '/graphql', headers: JSON_H, body: Buffer.from(JSON.stringify({ query: 'query($o:String!,$n:String!){ repository(owner:$o,name:$n){ issues(first:50,states:OPEN){ nodes{ number title author{login} labels(first:5){nodes{name}} } } } }', variables: { o: 'octo', n: 'hello' } })) },
  },
  {
    name: 'MCP tools/call with arguments',
    kind: 'MCP',
    req: {
      host: 'mcp.internal.test',
      method: 'POST',
      path: '/mcp',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': '5f0c7f3e-6a55-4c55-9c2e-0a3d6c1f2b11' },
      body: Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search_issues', arguments: { query: 'is:open label:bug', limit: 20, repo: 'octo/hello' } } })),
    },
  },
];

const iterations = quick ? 5_000 : 50_000;
const warmup = quick ? 2_000 : 20_000;
const rows: (string | number)[][] = [];
const data: Record<string, unknown>[] = [];
let worstRestP99 = 0;
for (const b of benches) {
  const first = classifier.classify(b.req);
  for (let i = 0; i < warmup; i++) classifier.classify(b.req);
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    classifier.classify(b.req);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const p = percentiles(Array.from(samples), [50, 99]);
  if (b.kind === 'REST') worstRestP99 = Math.max(worstRestP99, p.p99!);
  const bytes = b.req.body?.length ?? 0;
  rows.push([b.kind, b.name, bytes, first.type, fmt(p.p50!), fmt(p.p99!), b.kind === 'REST' ? (p.p99! <= 10 ? 'yes' : 'no') : 'n/a']);
  data.push({ name: b.name, kind: b.kind, bodyBytes: bytes, action: first.type, risk: first.risk, notes: first.notes, p50us: p.p50, p99us: p.p99 });
  console.error(`${b.kind.padEnd(7)} ${fmt(p.p50!).padStart(6)} µs p50 ${fmt(p.p99!).padStart(6)} µs p99  ${b.name} → ${first.type}`);
}

// Cost against body size, past the default limit too, to show what raising bodyParseLimit costs.
const wide = createClassifier({ connectors: [{ id: 'slack', kind: 'slack' }, { id: 'openai', kind: 'openai' }, { id: 'github', kind: 'github' }], bodyParseLimit: 1 << 20 });
const curveShapes: [string, (n: number) => string, ClassifyInput][] = [
  ['Slack blocks (JSON objects)', (n) => JSON.stringify({ channel: 'C0123456', blocks: Array.from({ length: n }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `Row ${i}: ${text(40)}` } })) }), { host: 'slack.com', method: 'POST', path: '/api/chat.postMessage', headers: { 'content-type': 'application/json' } }],
  ['OpenAI messages (JSON objects with long strings)', (n) => JSON.stringify({ model: 'gpt-4o-mini', messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: text(200) })) }), { host: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } }],
  ['GitHub file (one long string)', (n) => JSON.stringify({ message: 'm', branch: 'main', content: Buffer.from(text(n)).toString('base64') }), { host: 'api.github.com', method: 'PUT', path: '/repos/o/r/contents/a.md', headers: { 'content-type': 'application/json' } }],
];
const curve: Record<string, Record<string, { p50: number; p99: number }>> = {};
const curveNotes: string[] = [];
for (const [name, make, base] of curveShapes) {
  curve[name] = {};
  const parts: string[] = [];
  for (const kib of [1, 4, 16, 64]) {
    const req = { ...base, body: fill(kib * 1024, make) };
    for (let i = 0; i < warmup / 4; i++) wide.classify(req);
    const t = new Float64Array(iterations / 5);
    for (let i = 0; i < t.length; i++) {
      const t0 = process.hrtime.bigint();
      wide.classify(req);
      t[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const p = percentiles(Array.from(t), [50, 99]);
    curve[name]![`${kib}KiB`] = { p50: p.p50!, p99: p.p99! };
    parts.push(`${kib} KiB ${fmt(p.p50!)}/${fmt(p.p99!)}`);
  }
  curveNotes.push(`Cost by body size, ${name}, p50/p99 µs: ${parts.join(', ')}.`);
}

const counts = classifier.routeCounts();
emit({
  suite: 'classify',
  title: 'Request classification (libs/connectors)',
  description: `classifier.classify() per request, timed per call after ${warmup.toLocaleString('en-US')} warm-up calls, ${iterations.toLocaleString('en-US')} timed calls per row; body parse limit ${LIMIT / 1024} KiB. Bar: REST ≤ 10 µs p99, bodies included up to the parse limit.`,
  columns: ['kind', 'request', 'body bytes', 'action', 'p50 µs', 'p99 µs', '≤ 10 µs p99'],
  rows,
  notes: [
    `Worst REST p99: ${fmt(worstRestP99)} µs (bar 10 µs: ${worstRestP99 <= 10 ? 'met' : 'NOT met'} for every REST row). Load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(', ')} on ${cpus().length} cores shared with other work.`,
    `Routes compiled: GitHub REST ${counts.github}, Stripe ${counts.stripe}, Slack methods ${counts.slack}, OpenAI ${counts.openai}, Anthropic ${counts.anthropic}.`,
    'GraphQL and MCP parse the operation (graphql-js parse, JSON.parse of the JSON-RPC message); they have no bar.',
    ...curveNotes,
  ],
  data: { bodyParseLimit: LIMIT, routeCounts: counts, results: data, curve },
});
