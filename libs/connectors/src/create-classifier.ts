import type { Action, ConnectorEntry } from '@tameflare/contracts';
import { normalizeConnector, normalizeHost, validateDomain, type ConnectorDefinition, type NormalizedConnector } from './config/connector-config.ts';
import { createContext, finishAction, type RequestContext } from './context.ts';
import { configError } from './errors.ts';
import { generatedTables } from './generated-tables.ts';
import { note } from './params.ts';
import { createCustom } from './providers/custom.ts';
import { createGithub } from './providers/github.ts';
import { classifyHttp, classifyWebhook, methodVerb } from './providers/http.ts';
import { createAnthropic, createOpenai } from './providers/llm.ts';
import { classifyMcp } from './providers/mcp.ts';
import { createSlack } from './providers/slack.ts';
import { createStripe } from './providers/stripe.ts';
import { maxRisk, riskOfMethod } from './risk.ts';
import type { Classifier, ClassifyInput, ConnectorInfo } from './types.ts';
import { CLASSIFIER_VERSION } from './version.ts';

/** Default bytes of body the classifier parses; longer bodies are classified without their fields (`body_over_limit`). */
export const DEFAULT_BODY_PARSE_LIMIT = 16 * 1024;

export interface ClassifierOptions {
  /** Enabled connectors: KV `ConnectorEntry` values or definitions from a config file. */
  connectors: readonly (ConnectorDefinition | ConnectorEntry)[];
  /** GitHub Enterprise Server hosts, served by the github connector (API under `/api/v3`, GraphQL at `/api/graphql`). */
  githubEnterpriseHosts?: readonly string[];
  /** Bytes of body the ingress reads and the classifier parses. Default {@link DEFAULT_BODY_PARSE_LIMIT}. */
  bodyParseLimit?: number;
}

interface Runtime {
  info: ConnectorInfo;
  routes: number;
  classify(ctx: RequestContext): Action;
}

function buildRuntime(c: NormalizedConnector, enterpriseHosts: ReadonlySet<string>): Runtime {
  const info: ConnectorInfo = Object.freeze({ id: c.id, kind: c.kind, provider: c.provider, injection: c.injection, secretName: c.secretName, intercept: c.intercept, domains: Object.freeze([...c.domains]) });
  switch (c.kind) {
    case 'github': {
      const t = generatedTables();
      const gh = createGithub(t, { mutations: new Set(t.githubGraphql.mutations), queries: new Set(t.githubGraphql.queries) });
      return { info, routes: gh.restTrie.size, classify: (ctx) => gh.classify(ctx, c.id, enterpriseHosts.has(ctx.host)) };
    }
    case 'stripe': {
      const s = createStripe(generatedTables());
      return { info, routes: s.trie.size, classify: (ctx) => s.classify(ctx, c.id) };
    }
    case 'slack': {
      const s = createSlack(generatedTables());
      return { info, routes: s.methods.size, classify: (ctx) => s.classify(ctx, c.id) };
    }
    case 'openai': {
      const o = createOpenai(generatedTables());
      return { info, routes: o.trie.size, classify: (ctx) => o.classify(ctx, c.id) };
    }
    case 'anthropic': {
      const a = createAnthropic(generatedTables());
      return { info, routes: a.trie.size, classify: (ctx) => a.classify(ctx, c.id) };
    }
    case 'mcp':
      return { info, routes: 0, classify: (ctx) => classifyMcp(ctx, c.id, c.mcp) };
    case 'http':
      return { info, routes: 0, classify: (ctx) => classifyHttp(ctx, c.id) };
    case 'webhook':
      return { info, routes: 0, classify: (ctx) => classifyWebhook(ctx, c.id) };
    case 'custom': {
      const x = createCustom(c.provider, c.routes, c.basePath);
      return { info, routes: x.trie.size, classify: (ctx) => x.classify(ctx, c.id) };
    }
  }
}

/**
 * Builds the classifier once (connectors validated, route tables compiled); the ingress then
 * calls `connectorFor` and `classify` on every request. Throws `TF_ERR_CONNECTOR_CONFIG` for a
 * bad connector and `TF_ERR_CONNECTORS_NOT_BUILT` when the generated tables are missing.
 */
export function createClassifier(options: ClassifierOptions): Classifier {
  const limit = options.bodyParseLimit ?? DEFAULT_BODY_PARSE_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw configError('bodyParseLimit', 'must be a non-negative integer number of bytes');
  if (!Array.isArray(options.connectors)) throw configError('connectors', 'must be a list');
  const normalized = options.connectors.map((c, i) => normalizeConnector(c, `connectors[${i}]`));
  const ids = new Set<string>();
  for (const [i, c] of normalized.entries()) {
    if (ids.has(c.id)) throw configError(`connectors[${i}].id`, `duplicate connector id ${c.id}`);
    ids.add(c.id);
  }
  const ghe = (options.githubEnterpriseHosts ?? []).map((h, i) => validateDomain(h, `githubEnterpriseHosts[${i}]`));
  if (ghe.length) {
    const github = normalized.find((c) => c.kind === 'github');
    if (!github) throw configError('githubEnterpriseHosts', 'needs a github connector to serve those hosts');
    github.enterpriseHosts.push(...ghe);
    github.domains = [...new Set([...github.domains, ...ghe])];
  }
  const enterpriseHosts = new Set(normalized.flatMap((c) => c.enterpriseHosts));

  const exact = new Map<string, Runtime>();
  const wildcard = new Map<string, Runtime>();
  const runtimes: Runtime[] = [];
  for (const [i, c] of normalized.entries()) {
    const rt = buildRuntime(c, enterpriseHosts);
    runtimes.push(rt);
    for (const d of c.domains) {
      const map = d.startsWith('*.') ? wildcard : exact;
      const key = d.startsWith('*.') ? d.slice(2) : d;
      const other = map.get(key);
      if (other) throw configError(`connectors[${i}].domains`, `${d} is already served by connector ${other.info.id}`);
      map.set(key, rt);
    }
  }

  function lookup(host: string, port: number | undefined): Runtime | null {
    if (port !== undefined) {
      const withPort = exact.get(`${host}:${port}`);
      if (withPort) return withPort;
    }
    const direct = exact.get(host);
    if (direct) return direct;
    if (wildcard.size === 0) return null;
    for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
      const w = wildcard.get(host.slice(dot + 1));
      if (w) return w;
    }
    return null;
  }

  function hostOf(raw: string, port: number | undefined): { host: string; port: number | undefined } {
    let host = normalizeHost(String(raw ?? ''));
    const m = /^(.*):(\d{1,5})$/.exec(host);
    if (m && !host.endsWith(']') && (m[1]!.indexOf(':') < 0 || m[1]!.startsWith('['))) {
      host = m[1]!;
      port ??= Number(m[2]);
    }
    return { host, port };
  }

  const version = `${CLASSIFIER_VERSION}+${(() => {
    try {
      return runtimes.some((r) => ['github', 'stripe', 'slack', 'openai', 'anthropic'].includes(r.info.kind)) ? generatedTables().manifest.tablesDigest.slice(0, 12) : 'custom';
    } catch {
      return 'custom';
    }
  })()}`;

  return {
    version,
    connectorFor(rawHost, rawPort) {
      const { host, port } = hostOf(rawHost, rawPort);
      return lookup(host, port)?.info ?? null;
    },
    classify(input: ClassifyInput): Action {
      let provider = 'http';
      let connector = 'none';
      let ctx: RequestContext | undefined;
      try {
        const { host, port } = hostOf(input.host, input.port);
        const rt = lookup(host, port);
        ctx = createContext(input, host, limit);
        if (!rt) {
          note(ctx.notes, 'no_connector');
          return finishAction(ctx, { type: `http.${methodVerb(ctx.method)}`, connector, resource: host.slice(0, 253), risk: maxRisk(riskOfMethod(ctx.method), 'write') });
        }
        provider = rt.info.provider;
        connector = rt.info.id;
        return rt.classify(ctx);
      } catch {
        return { type: `${provider}.unknown`, connector, resource: null, params: {}, risk: 'destructive', notes: [...(ctx?.notes ?? []).slice(0, 19), 'classifier_error'] };
      }
    },
    routeCounts() {
      return Object.fromEntries(runtimes.map((r) => [r.info.id, r.routes]));
    },
  };
}
