import { NAME_PATTERN, type ConnectorEntry, type CredentialInjection, type Risk } from '@tameflare/contracts';
import { configError } from '../errors.ts';
import { routesFromOpenapi, type CustomRoute } from '../providers/custom.ts';

/** The connector kinds built in; `custom` is an internal API described by routes or an OpenAPI document. */
export const CONNECTOR_KINDS = ['github', 'stripe', 'slack', 'openai', 'anthropic', 'mcp', 'http', 'webhook', 'custom'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/**
 * A connector as a user writes it (YAML or JSON; see docs/connectors.md). The KV value
 * `ConnectorEntry` is accepted too: its `options` carry `provider`, `intercept`, `routes` (JSON text),
 * `openapi` (JSON text), `enterpriseHosts`, `path`, `readOnlyTools`, `destructiveTools`.
 */
export interface ConnectorDefinition {
  id: string;
  kind: ConnectorKind;
  /** Hosts served (`api.example.com`, `*.example.com`, `localhost:8080`). Built-ins default to their provider's. */
  domains?: string[];
  /** How to inject the credential; built-ins default to their provider's rule, `null` injects nothing. */
  injection?: CredentialInjection | null;
  secretName?: string | null;
  /** False: the ingress tunnels this connector's traffic without reading it. Default true. */
  intercept?: boolean;
  /** First segment of the action types (`custom` connectors; default: the id with `-` as `_`). */
  provider?: string;
  routes?: CustomRoute[];
  /** A parsed OpenAPI 3 document (a file path is resolved by loadConnectorConfig). */
  openapi?: Record<string, unknown>;
  options?: Record<string, string | number | boolean>;
}

/** A validated connector with every default applied. */
export interface NormalizedConnector {
  id: string;
  kind: ConnectorKind;
  provider: string;
  domains: string[];
  injection: CredentialInjection | null;
  secretName: string | null;
  intercept: boolean;
  routes: CustomRoute[];
  basePath: string;
  enterpriseHosts: string[];
  mcp: { path: string; readOnlyTools: Set<string>; destructiveTools: Set<string> };
}

const DEFAULTS: Record<ConnectorKind, { domains: string[]; injection: CredentialInjection | null }> = {
  github: { domains: ['api.github.com', 'uploads.github.com'], injection: { kind: 'bearer' } },
  stripe: { domains: ['api.stripe.com', 'files.stripe.com'], injection: { kind: 'bearer' } },
  slack: { domains: ['slack.com', 'api.slack.com', 'hooks.slack.com', 'files.slack.com'], injection: { kind: 'bearer' } },
  openai: { domains: ['api.openai.com'], injection: { kind: 'bearer' } },
  anthropic: { domains: ['api.anthropic.com'], injection: { kind: 'header', name: 'x-api-key' } },
  mcp: { domains: [], injection: { kind: 'bearer' } },
  http: { domains: [], injection: null },
  webhook: { domains: [], injection: null },
  custom: { domains: [], injection: null },
};

const NAME = new RegExp(NAME_PATTERN);
const HOST = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?(:\d{1,5})?$/;
const IPV6 = /^\[[0-9a-f:.]+\](:\d{1,5})?$/;
const PROVIDER = /^[a-z0-9_]{1,50}$/;
const ACTION = /^[a-z0-9_]+(\.[A-Za-z0-9_:/-]+)+$/;
const METHOD = /^[A-Z]{1,20}$/;
const RISKS = new Set<Risk>(['read', 'write', 'destructive']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Lowercase, no trailing dot; `host:port` kept. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function validateDomain(d: unknown, field: string): string {
  if (typeof d !== 'string' || d.length === 0 || d.length > 253) throw configError(field, 'must be a host name such as api.example.com, *.example.com or localhost:8080');
  const h = normalizeHost(d);
  if (!HOST.test(h) && !IPV6.test(h)) throw configError(field, `${JSON.stringify(d)} is not a host name (api.example.com, *.example.com or localhost:8080; no scheme, no path)`);
  const port = /:(\d+)$/.exec(h)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw configError(field, `port ${port} is out of range`);
  return h;
}

export function validateInjection(v: unknown, field: string): CredentialInjection | null {
  if (v === null) return null;
  if (!isObject(v)) throw configError(field, 'must be an object with kind bearer, basic, header or query, or null');
  const extra = (allowed: string[]) => {
    for (const k of Object.keys(v)) if (!allowed.includes(k)) throw configError(`${field}.${k}`, `is not a field of a ${String(v.kind)} injection (allowed: ${allowed.join(', ')})`);
  };
  switch (v.kind) {
    case 'bearer':
      extra(['kind']);
      return { kind: 'bearer' };
    case 'basic':
      extra(['kind', 'username']);
      if (v.username !== undefined && (typeof v.username !== 'string' || v.username.length > 200)) throw configError(`${field}.username`, 'must be a string of at most 200 characters');
      return v.username === undefined ? { kind: 'basic' } : { kind: 'basic', username: v.username };
    case 'header':
      extra(['kind', 'name', 'prefix']);
      if (typeof v.name !== 'string' || !/^[A-Za-z0-9-]{1,100}$/.test(v.name)) throw configError(`${field}.name`, 'must be a header name (letters, digits, -)');
      if (v.prefix !== undefined && (typeof v.prefix !== 'string' || v.prefix.length > 100)) throw configError(`${field}.prefix`, 'must be a string of at most 100 characters');
      return v.prefix === undefined ? { kind: 'header', name: v.name } : { kind: 'header', name: v.name, prefix: v.prefix };
    case 'query':
      extra(['kind', 'name']);
      if (typeof v.name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(v.name)) throw configError(`${field}.name`, 'must be a query parameter name (letters, digits, _ . -)');
      return { kind: 'query', name: v.name };
    default:
      throw configError(`${field}.kind`, `must be one of bearer, basic, header, query (got ${JSON.stringify(v.kind)})`);
  }
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  throw configError(field, 'must be a list of strings or a comma-separated string');
}

function parseJsonOption(v: unknown, field: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch (cause) {
    throw configError(field, 'must be valid JSON text', cause);
  }
}

export function validateRoutes(v: unknown, field: string, provider: string): CustomRoute[] {
  if (!Array.isArray(v)) throw configError(field, 'must be a list of routes');
  return v.map((r, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(r)) throw configError(f, 'must be an object with method, path and action');
    for (const k of Object.keys(r)) if (!['method', 'path', 'action', 'risk', 'params', 'resource', 'multiSegment'].includes(k)) throw configError(`${f}.${k}`, 'is not a route field (method, path, action, risk, params, resource, multiSegment)');
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!METHOD.test(method)) throw configError(`${f}.method`, 'must be an HTTP method such as GET or POST');
    if (typeof r.path !== 'string' || !r.path.startsWith('/') || r.path.length > 2000) throw configError(`${f}.path`, 'must be a path starting with / (parameters as {name})');
    if (/\{[^}]*$|^[^{]*\}/.test(r.path) || /\{\}/.test(r.path)) throw configError(`${f}.path`, 'has an unbalanced or empty {parameter}');
    if (typeof r.action !== 'string' || !ACTION.test(r.action) || r.action.length > 256) throw configError(`${f}.action`, 'must be an action type such as billing.invoice.void');
    if (!r.action.startsWith(`${provider}.`)) throw configError(`${f}.action`, `must start with the connector's provider "${provider}." (a connector cannot name another provider's actions)`);
    if (r.risk !== undefined && !RISKS.has(r.risk as Risk)) throw configError(`${f}.risk`, 'must be read, write or destructive');
    if (r.params !== undefined && (!Array.isArray(r.params) || !r.params.every((p) => typeof p === 'string'))) throw configError(`${f}.params`, 'must be a list of field names');
    if (r.resource !== undefined && typeof r.resource !== 'string') throw configError(`${f}.resource`, 'must be a template string such as {owner}/{repo}');
    if (r.multiSegment !== undefined && (!Array.isArray(r.multiSegment) || !r.multiSegment.every((p) => typeof p === 'string'))) throw configError(`${f}.multiSegment`, 'must be a list of path parameter names');
    return { ...(r as unknown as CustomRoute), method };
  });
}

const DEFINITION_FIELDS = ['id', 'connectorId', 'gatewayId', 'kind', 'domains', 'injection', 'secretName', 'intercept', 'provider', 'routes', 'openapi', 'options'];

/** Validates one connector (a definition or a KV entry) and applies its kind's defaults. Throws `TF_ERR_CONNECTOR_CONFIG` naming the field. */
export function normalizeConnector(input: ConnectorDefinition | ConnectorEntry | unknown, field: string): NormalizedConnector {
  if (!isObject(input)) throw configError(field, 'must be an object');
  for (const k of Object.keys(input)) if (!DEFINITION_FIELDS.includes(k)) throw configError(`${field}.${k}`, `is not a connector field (${DEFINITION_FIELDS.filter((f) => f !== 'connectorId' && f !== 'gatewayId').join(', ')})`);
  const id = input.id ?? input.connectorId;
  if (typeof id !== 'string' || !NAME.test(id)) throw configError(`${field}.id`, 'must be a lowercase name (letters, digits, - and _, at most 63)');
  const kind = input.kind as ConnectorKind;
  if (!CONNECTOR_KINDS.includes(kind)) throw configError(`${field}.kind`, `must be one of ${CONNECTOR_KINDS.join(', ')} (got ${JSON.stringify(input.kind)})`);
  const options = input.options ?? {};
  if (!isObject(options)) throw configError(`${field}.options`, 'must be an object of scalar values');
  const opt = (k: string) => (input as Record<string, unknown>)[k] ?? options[k];
  if (input.domains !== undefined && !Array.isArray(input.domains)) throw configError(`${field}.domains`, 'must be a list of host names');
  const given = ((input.domains as unknown[]) ?? []).map((d, i) => validateDomain(d, `${field}.domains[${i}]`));
  const domains = given.length ? given : DEFAULTS[kind].domains;
  if (domains.length === 0) throw configError(`${field}.domains`, `a ${kind} connector needs at least one domain`);
  const injection = input.injection === undefined ? DEFAULTS[kind].injection : validateInjection(input.injection, `${field}.injection`);
  const secretName = input.secretName ?? null;
  if (secretName !== null && (typeof secretName !== 'string' || !NAME.test(secretName))) throw configError(`${field}.secretName`, 'must be a lowercase name or null');
  const intercept = opt('intercept') ?? true;
  if (typeof intercept !== 'boolean') throw configError(`${field}.intercept`, 'must be true or false');
  const provider = opt('provider') ?? (kind === 'custom' ? id.replace(/-/g, '_') : kind);
  if (typeof provider !== 'string' || !PROVIDER.test(provider)) throw configError(`${field}.provider`, 'must be lowercase letters, digits and _');
  if (kind !== 'custom' && provider !== kind) throw configError(`${field}.provider`, `only custom connectors choose their provider; a ${kind} connector's actions start with "${kind}."`);
  if (['github', 'stripe', 'slack', 'openai', 'anthropic', 'mcp', 'http', 'webhook', 'none'].includes(provider) && kind === 'custom') {
    throw configError(`${field}.provider`, `"${provider}" belongs to a built-in connector; choose another provider name`);
  }
  let routes: CustomRoute[] = [];
  let basePath = '';
  const routesOpt = parseJsonOption(opt('routes'), `${field}.routes`);
  const openapiOpt = parseJsonOption(opt('openapi'), `${field}.openapi`);
  if ((routesOpt !== undefined || openapiOpt !== undefined) && kind !== 'custom') throw configError(`${field}.routes`, `routes and openapi are for custom connectors, not ${kind}`);
  if (kind === 'custom') {
    if (routesOpt === undefined && openapiOpt === undefined) throw configError(`${field}.routes`, 'a custom connector needs routes or an openapi document');
    if (openapiOpt !== undefined) {
      if (!isObject(openapiOpt) || !isObject(openapiOpt.paths)) throw configError(`${field}.openapi`, 'must be an OpenAPI 3 document with paths');
      const fromDoc = routesFromOpenapi(openapiOpt, provider);
      basePath = fromDoc.basePath;
      routes = validateRoutes(fromDoc.routes, `${field}.openapi.paths`, provider);
    }
    if (routesOpt !== undefined) routes = [...validateRoutes(routesOpt, `${field}.routes`, provider), ...routes];
  }
  const enterpriseHosts = stringList(opt('enterpriseHosts'), `${field}.enterpriseHosts`).map((h, i) => validateDomain(h, `${field}.enterpriseHosts[${i}]`));
  if (enterpriseHosts.length && kind !== 'github') throw configError(`${field}.enterpriseHosts`, 'is a github connector option');
  const path = opt('path') ?? '';
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw configError(`${field}.path`, 'must be the MCP endpoint path, starting with /');
  return {
    id,
    kind,
    provider,
    domains: [...new Set([...domains, ...enterpriseHosts])],
    injection,
    secretName: secretName as string | null,
    intercept,
    routes,
    basePath,
    enterpriseHosts,
    mcp: {
      path: path.replace(/\/+$/, ''),
      readOnlyTools: new Set(stringList(opt('readOnlyTools'), `${field}.readOnlyTools`)),
      destructiveTools: new Set(stringList(opt('destructiveTools'), `${field}.destructiveTools`)),
    },
  };
}
