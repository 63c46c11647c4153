import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTameFlareError, type ConnectorEntry } from '@tameflare/contracts';
import { describe, expect, it } from 'vitest';
import { loadGeneratedTables } from './generated-tables.ts';
import { createClassifier, loadConnectorConfig, parseConnectorConfig, type ConnectorDefinition } from './index.ts';

function configErrorOf(fn: () => unknown): { code: string; message: string; field: unknown } {
  try {
    fn();
  } catch (err) {
    if (!isTameFlareError(err)) throw err;
    return { code: err.code, message: err.message, field: err.details?.field };
  }
  throw new Error('expected a TF_ERR_CONNECTOR_CONFIG error');
}

describe('connectorFor: which connector serves a host', () => {
  const classifier = createClassifier({
    connectors: [
      { id: 'github', kind: 'github' },
      { id: 'anthropic', kind: 'anthropic' },
      { id: 'internal', kind: 'http', domains: ['*.corp.example', 'localhost:8080'], injection: { kind: 'header', name: 'X-Api-Key' } },
      { id: 'hooks', kind: 'webhook', domains: ['hooks.partner.example'], options: { intercept: false } },
    ],
    githubEnterpriseHosts: ['github.acme.test'],
  });

  it('answers with the connector, its injection rule and its domains', () => {
    expect(classifier.connectorFor('API.GitHub.com.')).toMatchObject({ id: 'github', kind: 'github', injection: { kind: 'bearer' }, intercept: true });
    expect(classifier.connectorFor('github.acme.test')?.id).toBe('github');
    expect(classifier.connectorFor('github')).toBeNull();
    expect(classifier.connectorFor('api.anthropic.com')?.injection).toEqual({ kind: 'header', name: 'x-api-key' });
    expect(classifier.connectorFor('build.corp.example')?.id).toBe('internal');
    expect(classifier.connectorFor('a.b.corp.example')?.id).toBe('internal');
    expect(classifier.connectorFor('corp.example')).toBeNull();
    expect(classifier.connectorFor('localhost', 8080)?.id).toBe('internal');
    expect(classifier.connectorFor('localhost:8080')?.id).toBe('internal');
    expect(classifier.connectorFor('localhost', 9090)).toBeNull();
    expect(classifier.connectorFor('hooks.partner.example')?.intercept).toBe(false);
  });

  it('returns null for an unknown host, so the ingress denies it', () => {
    expect(classifier.connectorFor('api.github.com.evil.test')).toBeNull();
    expect(classifier.connectorFor('')).toBeNull();
  });

  it('classifies generic HTTP and webhooks by method', () => {
    expect(classifier.classify({ host: 'build.corp.example', method: 'DELETE', path: '/jobs/9', query: 'force=true' })).toMatchObject({
      type: 'http.delete',
      connector: 'internal',
      resource: 'build.corp.example/jobs/9',
      risk: 'destructive',
      params: { force: 'true' },
    });
    expect(classifier.classify({ host: 'hooks.partner.example', method: 'POST', path: '/T000/B000/secretpart', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"event":"deploy"}') })).toMatchObject({
      type: 'webhook.post',
      resource: 'hooks.partner.example',
      risk: 'write',
      params: { event: 'deploy' },
    });
  });

  it('reports its version with the route tables digest', () => {
    expect(classifier.version).toMatch(/^1\.0\.0\+[0-9a-f]{12}$/);
    expect(classifier.routeCounts().github).toBeGreaterThan(1000);
  });
});

describe('custom connectors from a config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-connectors-'));
  writeFileSync(
    join(dir, 'billing-openapi.yaml'),
    `openapi: 3.0.3
info: { title: Billing, version: "1" }
servers: [{ url: "https://billing.internal.example/api/v2" }]
paths:
  /invoices:
    get: { operationId: listInvoices }
    post: { operationId: createInvoice }
  /invoices/{invoice_id}/void:
    post:
      operationId: voidInvoice
      x-tameflare-action: billing.invoice.void
      x-tameflare-risk: destructive
  /files/{path}:
    get:
      operationId: getFile
      parameters: [{ name: path, in: path, required: true, x-multi-segment: true }]
`,
  );
  writeFileSync(
    join(dir, 'connectors.yaml'),
    `connectors:
  - id: billing
    kind: custom
    domains: [billing.internal.example]
    injection: { kind: header, name: X-Api-Key }
    secretName: billing-key
    openapi: ./billing-openapi.yaml
  - id: deploy-bot
    kind: custom
    domains: [deploy.internal.example]
    injection: { kind: bearer }
    routes:
      - { method: POST, path: "/v1/apps/{app}/deploy", action: deploy_bot.app.deploy, params: [environment], resource: "app:{app}" }
      - { method: DELETE, path: "/v1/apps/{app}", action: deploy_bot.app.delete }
`,
  );

  it('loads routes and an OpenAPI file, with x-tameflare overrides and a base path', () => {
    const defs = loadConnectorConfig(join(dir, 'connectors.yaml'));
    const classifier = createClassifier({ connectors: defs });
    expect(classifier.connectorFor('billing.internal.example')).toMatchObject({ id: 'billing', kind: 'custom', provider: 'billing', secretName: 'billing-key', injection: { kind: 'header', name: 'X-Api-Key' } });
    const json = { 'content-type': 'application/json' };
    expect(classifier.classify({ host: 'billing.internal.example', method: 'POST', path: '/api/v2/invoices/in_7/void' })).toMatchObject({ type: 'billing.invoice.void', risk: 'destructive', params: { invoice_id: 'in_7' } });
    expect(classifier.classify({ host: 'billing.internal.example', method: 'POST', path: '/api/v2/invoices', headers: json, body: Buffer.from('{"amount":120,"currency":"usd"}') })).toMatchObject({
      type: 'billing.create_invoice',
      risk: 'write',
      params: { amount: 120, currency: 'usd' },
    });
    expect(classifier.classify({ host: 'billing.internal.example', method: 'GET', path: '/api/v2/files/2024/q1/report.pdf' })).toMatchObject({ type: 'billing.get_file', risk: 'read', params: { path: '2024/q1/report.pdf' } });
    expect(classifier.classify({ host: 'billing.internal.example', method: 'GET', path: '/invoices' })).toMatchObject({ type: 'billing.unknown', notes: ['no_route'] });
    const deploy = classifier.classify({ host: 'deploy.internal.example', method: 'POST', path: '/v1/apps/shop/deploy', headers: json, body: Buffer.from('{"environment":"prod","force":true}') });
    expect(deploy).toMatchObject({ type: 'deploy_bot.app.deploy', resource: 'app:shop', risk: 'write' });
    expect(deploy.params).toEqual({ app: 'shop', environment: 'prod' });
    expect(classifier.classify({ host: 'deploy.internal.example', method: 'DELETE', path: '/v1/apps/shop' })).toMatchObject({ type: 'deploy_bot.app.delete', risk: 'destructive' });
  });

  it('accepts the KV ConnectorEntry shape, routes as JSON text in options', () => {
    const entry: ConnectorEntry = {
      gatewayId: 'default',
      connectorId: 'billing',
      kind: 'custom',
      secretName: 'billing-key',
      injection: { kind: 'query', name: 'api_key' },
      domains: ['billing.internal.example'],
      options: { routes: JSON.stringify([{ method: 'POST', path: '/refunds', action: 'billing.refund.create' }]) },
    };
    const gh: ConnectorEntry = { gatewayId: 'default', connectorId: 'gh', kind: 'github', secretName: 'gh-token', injection: null, domains: [], options: { enterpriseHosts: 'git.corp.example' } };
    const classifier = createClassifier({ connectors: [entry, gh] });
    expect(classifier.classify({ host: 'billing.internal.example', method: 'POST', path: '/refunds' }).type).toBe('billing.refund.create');
    expect(classifier.connectorFor('billing.internal.example')?.injection).toEqual({ kind: 'query', name: 'api_key' });
    expect(classifier.connectorFor('api.github.com')).toMatchObject({ id: 'gh', injection: null, secretName: 'gh-token' });
    expect(classifier.classify({ host: 'git.corp.example', method: 'DELETE', path: '/api/v3/repos/a/b' }).type).toBe('github.repo.delete');
  });

  const invalid: [string, ConnectorDefinition | Record<string, unknown>, string][] = [
    ['an unknown kind', { id: 'x', kind: 'ftp', domains: ['a.example'] }, 'connectors[0].kind'],
    ['a domain with a scheme', { id: 'x', kind: 'http', domains: ['https://a.example/path'] }, 'connectors[0].domains[0]'],
    ['no domain for a generic connector', { id: 'x', kind: 'http' }, 'connectors[0].domains'],
    ['a bad id', { id: 'Bad Id', kind: 'github' }, 'connectors[0].id'],
    ['an unknown injection kind', { id: 'x', kind: 'http', domains: ['a.example'], injection: { kind: 'cookie' } }, 'connectors[0].injection.kind'],
    ['a header injection without a name', { id: 'x', kind: 'http', domains: ['a.example'], injection: { kind: 'header' } }, 'connectors[0].injection.name'],
    ['an unknown field', { id: 'x', kind: 'http', domains: ['a.example'], domain: 'typo' }, 'connectors[0].domain'],
    ['a custom connector without routes', { id: 'x', kind: 'custom', domains: ['a.example'] }, 'connectors[0].routes'],
    ['a route naming another provider', { id: 'x', kind: 'custom', domains: ['a.example'], routes: [{ method: 'GET', path: '/a', action: 'github.repo.delete' }] }, 'connectors[0].routes[0].action'],
    ['a route with a bad method', { id: 'x', kind: 'custom', domains: ['a.example'], routes: [{ method: 'GET /a', path: '/a', action: 'x.a.get' }] }, 'connectors[0].routes[0].method'],
    ['a route with a bad risk', { id: 'x', kind: 'custom', domains: ['a.example'], routes: [{ method: 'GET', path: '/a', action: 'x.a.get', risk: 'low' }] }, 'connectors[0].routes[0].risk'],
    ['routes given as invalid JSON text', { id: 'x', kind: 'custom', domains: ['a.example'], options: { routes: '[{' } }, 'connectors[0].routes'],
    ['a custom provider taking a built-in name', { id: 'x', kind: 'custom', domains: ['a.example'], provider: 'stripe', routes: [] }, 'connectors[0].provider'],
  ];

  it.each(invalid)('rejects %s, naming the field', (_name, def, field) => {
    const err = configErrorOf(() => createClassifier({ connectors: [def as ConnectorDefinition] }));
    expect(err.code).toBe('TF_ERR_CONNECTOR_CONFIG');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it('rejects two connectors on one domain, and enterprise hosts without a github connector', () => {
    const dup = configErrorOf(() => createClassifier({ connectors: [{ id: 'a', kind: 'openai' }, { id: 'b', kind: 'http', domains: ['API.openai.com'] }] }));
    expect(dup.message).toMatch(/api\.openai\.com is already served by connector a/);
    expect(configErrorOf(() => createClassifier({ connectors: [], githubEnterpriseHosts: ['git.corp.example'] })).field).toBe('githubEnterpriseHosts');
  });

  it('names the file and the field for YAML errors and missing OpenAPI files', () => {
    expect(configErrorOf(() => parseConnectorConfig('connectors: [ {id: x', { source: 'conn.yaml' })).message).toMatch(/conn\.yaml: is not valid YAML/);
    const missing = configErrorOf(() => parseConnectorConfig('id: x\nkind: custom\ndomains: [a.example]\nopenapi: ./nope.json', { baseDir: dir, source: 'conn.yaml' }));
    expect(missing.field).toBe('conn.yaml.openapi');
  });
});

describe('generated route tables', () => {
  it('fail with the build command when missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tf-connectors-empty-'));
    try {
      loadGeneratedTables(empty);
      expect.unreachable();
    } catch (err) {
      expect(isTameFlareError(err, 'TF_ERR_CONNECTORS_NOT_BUILT')).toBe(true);
      expect((err as Error).message).toContain('npx nx run @tameflare/connectors:build');
    }
  });
});
