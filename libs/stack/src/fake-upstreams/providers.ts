import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SeenRequest } from './start-fake-upstreams.ts';

/** What a fake API answers: a JSON body, or a stream it writes itself. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  stream?: (res: ServerResponse) => void;
}

/**
 * Server-sent chat chunks, one every 100 ms for a minute: a long LLM answer, for tests that cut
 * an open stream (the kill switch).
 */
function chatStream(model: unknown): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    stream: (res) => {
      const chatId = id('chatcmpl');
      let n = 0;
      const timer = setInterval(() => {
        if (n++ >= 600) {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
          return;
        }
        const chunk = { id: chatId, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta: { content: `token${n} ` }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }, 100);
      res.on('close', () => clearInterval(timer));
    },
  };
}

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const pathOf = (url: string) => url.split('?')[0]!;

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

function json(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A few GitHub REST routes, shaped like the real answers the SDKs parse. */
export function handleGithub(req: SeenRequest): Reply {
  const path = pathOf(req.url);
  const repo = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
  if (repo && req.method === 'GET') {
    const [, owner, name] = repo;
    return { status: 200, body: { id: 4242, name, full_name: `${owner}/${name}`, private: false, owner: { login: owner, type: 'Organization' }, default_branch: 'main', stargazers_count: 7 } };
  }
  if (repo && req.method === 'DELETE') return { status: 204 };
  const issues = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(path);
  if (issues && req.method === 'GET') return { status: 200, body: [{ number: 1, title: 'First issue', state: 'open' }] };
  if (issues && req.method === 'POST') return { status: 201, body: { number: 2, title: json(req.body).title ?? '', state: 'open' } };
  if (path === '/user' && req.method === 'GET') return { status: 200, body: { login: 'demo-bot', id: 1, type: 'Bot' } };
  // An upstream that reflects the key it was sent, in a header and in the body (a debug endpoint,
  // an error page quoting the request): what the gateway must redact before the agent sees it.
  if (path === '/meta/echo' && req.method === 'GET') {
    const auth = String(req.headers.authorization ?? '');
    return { status: 200, headers: { 'x-echo-authorization': auth }, body: { authorization: auth, token: auth.replace(/^Bearer /, '') } };
  }
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
}

/** A few Stripe routes (form-encoded requests, JSON answers). */
export function handleStripe(req: SeenRequest): Reply {
  const path = pathOf(req.url);
  if (path === '/v1/refunds' && req.method === 'POST') {
    const f = form(req.body);
    return { status: 200, body: { id: id('re'), object: 'refund', amount: Number(f.amount ?? 0), charge: f.charge ?? null, currency: 'usd', status: 'succeeded' } };
  }
  const charge = /^\/v1\/charges\/([^/]+)$/.exec(path);
  if (charge && req.method === 'GET') return { status: 200, body: { id: charge[1], object: 'charge', amount: 12000, currency: 'usd', paid: true, refunded: false } };
  if (path === '/v1/balance' && req.method === 'GET') return { status: 200, body: { object: 'balance', available: [{ amount: 100000, currency: 'usd' }], pending: [], livemode: false } };
  return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` } } };
}

/** Slack Web API methods answer 200 with `ok`. */
export function handleSlack(req: SeenRequest): Reply {
  const path = pathOf(req.url);
  if (path === '/api/chat.postMessage') {
    const b = req.headers['content-type']?.toString().includes('json') ? json(req.body) : form(req.body);
    return { status: 200, body: { ok: true, channel: b.channel ?? 'C0', ts: `${Math.floor(Date.now() / 1000)}.000100`, message: { text: b.text ?? '' } } };
  }
  if (path === '/api/auth.test') return { status: 200, body: { ok: true, url: 'https://demo.slack.com/', team: 'demo', user: 'demo-bot', team_id: 'T0', user_id: 'U0' } };
  return { status: 200, body: { ok: false, error: 'unknown_method' } };
}

/** OpenAI chat completions and models. */
export function handleOpenai(req: SeenRequest): Reply {
  const path = pathOf(req.url);
  if (path === '/v1/chat/completions' && req.method === 'POST') {
    const request = json(req.body);
    const model = request.model ?? 'gpt-4o-mini';
    if (request.stream === true) return chatStream(model);
    return {
      status: 200,
      body: {
        id: id('chatcmpl'),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake OpenAI.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
      },
    };
  }
  if (path === '/v1/models' && req.method === 'GET') return { status: 200, body: { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', owned_by: 'openai' }] } };
  return { status: 404, body: { error: { message: 'Unknown request URL', type: 'invalid_request_error' } } };
}
