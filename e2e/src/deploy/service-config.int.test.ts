/**
 * Bad input at start: every service, started with a required variable missing or a variable
 * malformed, exits with code 1 and one message naming that variable, never echoing a secret,
 * and nothing is started (no NATS connection is ever made). The table is each service's own
 * schema, read from its main.ts, so a setting added later is covered without editing this file.
 * Checks that need more than the schema (the vault's master key, the ingress's CA files) run
 * after the NATS connection and must also stop the process with a message naming the variable.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNatsServer, type TestNatsServer } from '@tameflare/testing';
import { describeAllServices, isSecret, malformedValue, runMain, SERVICE_NAMES, type DescribedService, type MainResult, type ServiceName } from './service-configs.ts';

let nats: TestNatsServer;
let monitorPort: number;
/** Connections counted before any service ran (the harness's own readiness probe). */
let baselineConnections: number;
let services: Record<ServiceName, DescribedService>;
let dir: string;

/** A complete, valid configuration for `service`: each case then breaks one variable. */
function validEnv(service: ServiceName): Record<string, string> {
  const env: Record<string, string> = {
    TF_NATS_URL: nats.url,
    TF_HEALTH_PORT: '0',
    TF_LOG_LEVEL: 'error',
    TF_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  };
  if (service === 'ingress') env.TF_INGRESS_PORT = '0';
  return env;
}

async function natsConnectionsSoFar(): Promise<number> {
  const varz = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as { total_connections: number };
  return varz.total_connections;
}

/** Runs `cases` two at a time. */
async function inPairs<T>(cases: T[], fn: (c: T) => Promise<void>): Promise<void> {
  const queue = [...cases];
  await Promise.all([0, 1].map(async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) await fn(c);
  }));
}

beforeAll(async () => {
  monitorPort = await freePort();
  nats = await startNatsServer({ extraConfig: `http_port: ${monitorPort}` });
  baselineConnections = await natsConnectionsSoFar();
  services = await describeAllServices();
  dir = mkdtempSync(join(tmpdir(), 'tf-config-'));
}, 120_000);
afterAll(async () => {
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('configuration refused before anything starts', () => {
  it('every service declares its settings (the table below is not empty)', () => {
    for (const s of SERVICE_NAMES) {
      expect(services[s].name).toBe(s);
      expect(services[s].variables.map((v) => v.variable)).toEqual(expect.arrayContaining(['TF_NATS_URL', 'TF_HEALTH_PORT', 'TF_INSTANCE_ID', 'TF_LOG_LEVEL']));
    }
    expect(services.vault.variables.find((v) => v.variable === 'TF_DATABASE_URL')?.required).toBe(true);
  });

  for (const service of SERVICE_NAMES) {
    it(`${service}: each required variable missing, and every malformed variable, exits 1 naming it`, async () => {
      const variables = services[service].variables;
      const required = variables.filter((v) => v.required);
      const malformed = variables.flatMap((v) => {
        const value = malformedValue(v.schema);
        return value === undefined ? [] : [{ variable: v.variable, value, secret: isSecret(v) }];
      });
      expect(malformed.length).toBeGreaterThan(4);
      const failures: string[] = [];
      const check = (label: string, r: MainResult, named: string[]) => {
        const lines = r.output.trim().split('\n');
        if (r.code !== 1) failures.push(`${label}: exit ${r.code ?? r.signal}: ${lines[0]?.slice(0, 300)}`);
        else if (lines[0] !== `${service}: invalid configuration:`) failures.push(`${label}: unexpected first line: ${lines[0]?.slice(0, 300)}`);
        for (const n of named) if (!lines.some((l) => l.startsWith(`  ${n}: `))) failures.push(`${label}: ${n} is not named`);
      };
      // One process per missing variable.
      await inPairs(required, async (v) => {
        const env = validEnv(service);
        delete env[v.variable];
        check(`${v.variable} missing`, await runMain(service, env), [v.variable]);
      });
      // One process with every setting malformed at once: the loader checks each on its own, so
      // each must be named on its own line, and no secret may be echoed.
      const env = validEnv(service);
      for (const m of malformed) env[m.variable] = m.value;
      const all = await runMain(service, env);
      check('every variable malformed', all, malformed.map((m) => m.variable));
      for (const m of malformed.filter((x) => x.secret)) {
        const line = all.output.split('\n').find((l) => l.startsWith(`  ${m.variable}: `)) ?? '';
        if (line.includes(m.value)) failures.push(`${m.variable}: the secret value was echoed`);
      }
      // A configuration file that is not there.
      check('TF_CONFIG_FILE missing', await runMain(service, { ...validEnv(service), TF_CONFIG_FILE: join(dir, 'no-such-file.yaml') }), ['TF_CONFIG_FILE']);
      expect(failures).toEqual([]);
    }, 120_000);
  }

  it('no process refused for its configuration ever connected to NATS', async () => {
    expect(await natsConnectionsSoFar()).toBe(baselineConnections);
  });
});

describe('settings checked after connecting', () => {
  /** `names`: the variable, or the value it was given (a file path), that the message must name. */
  const semantic: { service: ServiceName; why: string; env: () => Record<string, string>; names: () => string }[] = [
    { service: 'vault', why: 'no master key at all', env: () => ({}), names: () => 'TF_VAULT_MASTER_KEY' },
    { service: 'vault', why: 'a master key that is not base64 of 32 bytes', env: () => ({ TF_VAULT_MASTER_KEY: 'c2hvcnQ=' }), names: () => 'TF_VAULT_MASTER_KEY' },
    {
      service: 'vault',
      why: 'a master key file readable by others',
      env: () => {
        const f = join(dir, 'loose-master-key');
        writeFileSync(f, Buffer.alloc(32, 7).toString('base64') + '\n');
        chmodSync(f, 0o644);
        return { TF_VAULT_MASTER_KEY_FILE: f };
      },
      names: () => join(dir, 'loose-master-key'),
    },
    { service: 'ingress', why: 'an upstream CA file that cannot be read', env: () => ({ TF_INGRESS_UPSTREAM_CA_FILES: join(dir, 'missing-ca.pem') }), names: () => 'TF_INGRESS_UPSTREAM_CA_FILES' },
  ];
  for (const c of semantic) {
    it(`${c.service} stops with a message naming what is wrong: ${c.why}`, async () => {
      const r = await runMain(c.service, { ...validEnv(c.service), TF_INGRESS_STATE_DIR: join(dir, 'ingress'), ...c.env() });
      expect(r.code).not.toBe(0);
      expect(r.signal).toBeNull();
      expect(r.output).toContain(c.names());
    }, 60_000);
  }
});
