/**
 * Build step: generates the route tables in src/generated/ from the providers' own published
 * descriptions. GitHub REST comes from its OpenAPI description (@octokit/openapi), GitHub
 * GraphQL root fields from its schema (@octokit/graphql-schema). Stripe, OpenAI and Anthropic
 * publish their OpenAPI descriptions as generated SDKs: each SDK method is called once with
 * placeholder ids against a fetch that records the request and fails it, so the table holds
 * exactly the method and path the real SDK sends. Slack's Web API methods are the method
 * names its SDK (@slack/web-api) binds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema } from 'graphql';
import Stripe from 'stripe';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { WebClient } from '@slack/web-api';

const require = createRequire(import.meta.url);
const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'generated');
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

type SdkOperation = [method: string, path: string, sdkMethod: string];

/** The folder of an installed package, found along Node's lookup paths (some packages export neither a main entry nor package.json). */
function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  throw new Error(`cannot locate the installed package ${name}`);
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
}

function githubRest(file: string): { operations: [string, string, string, string[]][]; version: string } {
  const spec = JSON.parse(readFileSync(join(packageDir('@octokit/openapi'), 'generated', file), 'utf8'));
  const sharedParams: Record<string, any> = spec.components?.parameters ?? {};
  const operations: [string, string, string, string[]][] = [];
  for (const [path, item] of Object.entries<any>(spec.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const multi: string[] = [];
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        const param = p.$ref ? sharedParams[p.$ref.split('/').pop()] : p;
        if (param?.in === 'path' && param['x-multi-segment']) multi.push(param.name);
      }
      operations.push([method.toUpperCase(), path, op.operationId, multi]);
    }
  }
  return { operations, version: spec.info.version };
}

function githubGraphql(): { mutations: string[]; queries: string[] } {
  const sdl = readFileSync(join(packageDir('@octokit/graphql-schema'), 'schema.graphql'), 'utf8');
  const schema = buildSchema(sdl, { assumeValidSDL: true });
  return {
    mutations: Object.keys(schema.getMutationType()?.getFields() ?? {}).sort(),
    queries: Object.keys(schema.getQueryType()?.getFields() ?? {}).sort(),
  };
}

/** The parameter names of a method, read from its source, to hand it placeholders. */
function argNames(fn: (...args: unknown[]) => unknown): string[] {
  const m = /^[^(]*\(([^)]*)\)/.exec(fn.toString());
  return m ? m[1]!.split(',').map((s) => s.trim().replace(/\s*=.*$/, '')).filter(Boolean) : [];
}

/** An argument object whose every property is a placeholder, for path parts read from params. */
function placeholderObject(): object {
  return new Proxy(
    {},
    {
      get: (_t, k) => (typeof k === 'string' && k !== 'then' && k !== 'toJSON' ? `__TF_${k}__` : undefined),
      ownKeys: () => [],
      has: () => false,
    },
  );
}

function templateOf(url: string, base: string): string {
  const u = new URL(url);
  if (`${u.protocol}//${u.host}` !== base) return '';
  return decodeURIComponent(u.pathname).replace(/__TF_([A-Za-z0-9_]+?)__/g, '{$1}');
}

interface Capture {
  current: string;
  seen: Map<string, SdkOperation>;
  fetch: (url: string | URL, init?: { method?: string }) => Promise<never>;
}

function capture(base: string): Capture {
  const c: Capture = {
    current: '',
    seen: new Map(),
    fetch: async (url, init) => {
      const path = templateOf(String(url), base);
      const method = (init?.method ?? 'GET').toUpperCase();
      const key = `${method} ${path.replace(/\{[^}]+\}/g, '{}')}`;
      const prev = c.seen.get(key);
      // Two SDK methods on one endpoint (a beta alias, a polling helper): keep the first, or the shorter, stable name.
      if (path && (!prev || prev[2].split('.').length > c.current.split('.').length)) c.seen.set(key, [method, path, c.current]);
      throw new Error('captured');
    },
  };
  return c;
}

async function callAll(cap: Capture, obj: any, prefix: string, isResource: (o: any) => boolean, args: (name: string) => unknown, visited = new Set<object>()): Promise<void> {
  if (visited.has(obj)) return;
  visited.add(obj);
  for (const key of Object.keys(obj)) {
    if (key.startsWith('_') || key === 'stripe') continue;
    const child = obj[key];
    if (!child || typeof child !== 'object') continue;
    if (isResource(child)) {
      const names = new Set<string>();
      for (let proto = Object.getPrototypeOf(child); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        if (['APIResource', 'StripeResource'].includes(proto.constructor?.name)) break;
        for (const n of Object.getOwnPropertyNames(proto)) if (n !== 'constructor' && !n.startsWith('_') && typeof proto[n] === 'function') names.add(n);
      }
      for (const n of names) {
        cap.current = `${prefix}${key}.${n}`;
        try {
          const r = child[n](...argNames(child[n]).map(args));
          if (r && typeof r.then === 'function') await Promise.race([r.catch(() => undefined), new Promise((res) => setTimeout(res, 20))]);
        } catch {
          // Helpers that validate their input before any request (stream, parse, webhooks) send nothing; the endpoint they wrap is captured through its own method.
        }
      }
    }
    await callAll(cap, child, `${prefix}${key}.`, isResource, args, visited);
  }
}

async function stripeOperations(): Promise<SdkOperation[]> {
  const cap = capture('http://tf.invalid');
  const stripe = new Stripe('sk_test_placeholder', {
    httpClient: Stripe.createFetchHttpClient(cap.fetch as unknown as typeof fetch),
    maxNetworkRetries: 0,
    host: 'tf.invalid',
    protocol: 'http',
    port: 80,
  });
  await callAll(cap, stripe, '', (o) => typeof o._makeRequest === 'function', (a) => (a === 'options' ? undefined : a === 'params' ? {} : `__TF_${a}__`));
  // The one hand-written row: files.create builds a multipart upload (on files.stripe.com) and refuses a placeholder file before sending.
  if (!cap.seen.has('POST /v1/files')) cap.seen.set('POST /v1/files', ['POST', '/v1/files', 'files.create']);
  return [...cap.seen.values()];
}

async function stainlessOperations(make: (fetch: Capture['fetch']) => object): Promise<SdkOperation[]> {
  const cap = capture('http://tf.invalid');
  await callAll(cap, make(cap.fetch), '', (o) => '_client' in o, (a) =>
    /^(options|requestOptions)$/.test(a) ? undefined : /^(body|params|query)$/.test(a) ? placeholderObject() : `__TF_${a}__`,
  );
  return [...cap.seen.values()];
}

/** Slack Web API method names: the SDK binds each name into `apiCall`, so calling every bound method with `apiCall` swapped out records them. */
function slackMethods(): string[] {
  const methods = new Set<string>();
  const proto = Object.getPrototypeOf(new WebClient('xoxb-placeholder'));
  const realApiCall = proto.apiCall;
  proto.apiCall = function apiCall(method: string) {
    methods.add(method);
    return Promise.resolve({ ok: true });
  };
  const visit = (o: any, depth: number) => {
    for (const key of Object.keys(o)) {
      const v = o[key];
      if (typeof v === 'function' && v.name === 'bound apiCall') void v({});
      else if (depth < 5 && v && typeof v === 'object' && !Array.isArray(v) && !['logger', 'axios', 'requestQueue'].includes(key)) visit(v, depth + 1);
    }
  };
  try {
    visit(new WebClient('xoxb-placeholder'), 0);
  } finally {
    proto.apiCall = realApiCall;
  }
  return [...methods].sort();
}

function write(name: string, data: unknown): string {
  const text = JSON.stringify(data) + '\n';
  writeFileSync(join(outDir, name), text);
  return createHash('sha256').update(text).digest('hex');
}

// Every captured request fails on purpose; SDKs that retry or stream may surface that failure late.
process.on('unhandledRejection', () => undefined);
mkdirSync(outDir, { recursive: true });
const rest = githubRest('api.github.com.json');
const restKeys = new Set(rest.operations.map(([m, p]) => `${m} ${p}`));
const ghes = githubRest('ghes-3.19.json');
const enterpriseOnly = ghes.operations.filter(([m, p]) => !restKeys.has(`${m} ${p}`));
const graphql = githubGraphql();
const stripeOps = await stripeOperations();
const openaiOps = await stainlessOperations((f) => new OpenAI({ apiKey: 'placeholder', adminAPIKey: 'placeholder', baseURL: 'http://tf.invalid/v1', fetch: f as any, maxRetries: 0 }));
const anthropicOps = await stainlessOperations((f) => new Anthropic({ apiKey: 'placeholder', baseURL: 'http://tf.invalid', fetch: f as any, maxRetries: 0 }));
const slack = slackMethods();

const sources = {
  github: { package: '@octokit/openapi', version: packageVersion('@octokit/openapi'), description: `api.github.com ${rest.version}; enterprise-only operations from ghes-3.19` },
  githubGraphql: { package: '@octokit/graphql-schema', version: packageVersion('@octokit/graphql-schema') },
  stripe: { package: 'stripe', version: packageVersion('stripe'), description: `OpenAPI ${readFileSync(join(packageDir('stripe'), 'OPENAPI_VERSION'), 'utf8').trim()}` },
  openai: { package: 'openai', version: packageVersion('openai') },
  anthropic: { package: '@anthropic-ai/sdk', version: packageVersion('@anthropic-ai/sdk') },
  slack: { package: '@slack/web-api', version: packageVersion('@slack/web-api') },
};
const digests = {
  github: write('github-rest.json', { source: sources.github, operations: rest.operations, enterpriseOnly }),
  githubGraphql: write('github-graphql.json', { source: sources.githubGraphql, ...graphql }),
  stripe: write('stripe.json', { source: sources.stripe, operations: stripeOps }),
  openai: write('openai.json', { source: sources.openai, operations: openaiOps }),
  anthropic: write('anthropic.json', { source: sources.anthropic, operations: anthropicOps }),
  slack: write('slack.json', { source: sources.slack, methods: slack }),
};
const tablesDigest = createHash('sha256').update(Object.values(digests).join('')).digest('hex');
const counts = {
  githubRest: rest.operations.length,
  githubEnterpriseOnly: enterpriseOnly.length,
  githubGraphqlMutations: graphql.mutations.length,
  githubGraphqlQueries: graphql.queries.length,
  stripe: stripeOps.length,
  openai: openaiOps.length,
  anthropic: anthropicOps.length,
  slack: slack.length,
};
write('manifest.json', { tablesDigest, sources, counts });
console.log(`connectors: generated route tables in ${outDir}: ${JSON.stringify(counts)}`);
