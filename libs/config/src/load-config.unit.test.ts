import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { isTameFlareError } from '@tameflare/contracts';
import { ConfigError, DatabaseConfigSchema, describeConfig, Duration, loadConfig, parseDuration, Secret, ServiceConfigSchema } from './index.ts';

const Schema = Type.Object({
  ...ServiceConfigSchema.properties,
  database: DatabaseConfigSchema,
  graceMs: Duration({ default: 5000 }),
  enabled: Type.Boolean({ default: false }),
  domains: Type.Array(Type.String(), { default: [] }),
  ports: Type.Array(Type.Integer({ minimum: 1 }), { default: [] }),
  apiKey: Type.Optional(Type.String()),
  upstreamToken: Type.Optional(Secret()),
});

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(isTameFlareError(err, 'TF_ERR_CONFIG')).toBe(true);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and coerces numbers, booleans, durations and lists from the environment', () => {
    const c = loadConfig(Schema, {
      env: {
        TF_DATABASE_URL: 'postgres://tf@127.0.0.1/tf',
        TF_HEALTH_PORT: '9500',
        TF_GRACE_MS: '1m30s',
        TF_ENABLED: 'yes',
        TF_DOMAINS: 'api.github.com, api.stripe.com',
        TF_PORTS: '80,443',
        TF_LOG_LEVEL: 'debug',
        TF_NATS_PASSWORD: 's3cret',
      },
    });
    expect(c).toMatchObject({
      nats: { url: 'nats://127.0.0.1:4222', password: 's3cret' },
      health: { port: 9500, host: '127.0.0.1' },
      database: { url: 'postgres://tf@127.0.0.1/tf' },
      graceMs: 90_000,
      enabled: true,
      domains: ['api.github.com', 'api.stripe.com'],
      ports: [80, 443],
      logLevel: 'debug',
    });
  });

  it('reads a YAML file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-config-'));
    const file = join(dir, 'tf.yaml');
    writeFileSync(file, 'nats:\n  url: nats://10.0.0.1:4222\nhealth:\n  port: 9001\ngraceMs: 500ms\ndatabase:\n  url: postgres://file/db\n');
    const c = loadConfig(Schema, { env: { TF_CONFIG_FILE: file, TF_HEALTH_PORT: '9002' } });
    expect(c.nats.url).toBe('nats://10.0.0.1:4222');
    expect(c.health.port).toBe(9002);
    expect(c.graceMs).toBe(500);
    expect(c.database.url).toBe('postgres://file/db');
  });

  it('lists every bad and missing value by variable name with what was expected', () => {
    const err = errorOf(() => loadConfig(Schema, { env: { TF_HEALTH_PORT: 'http', TF_GRACE_MS: 'soon', TF_ENABLED: 'maybe', TF_LOG_LEVEL: 'loud', TF_PORTS: '80,x' } }));
    const byVar = Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
    expect(Object.keys(byVar).sort()).toEqual(['TF_DATABASE_URL', 'TF_ENABLED', 'TF_GRACE_MS', 'TF_HEALTH_PORT', 'TF_LOG_LEVEL', 'TF_PORTS']);
    expect(byVar.TF_HEALTH_PORT).toBe('expected an integer from 0 to 65535, got "http"');
    expect(byVar.TF_GRACE_MS).toBe('expected a duration such as 500ms, 30s or 5m, got "soon"');
    expect(byVar.TF_ENABLED).toBe('expected true or false, got "maybe"');
    expect(byVar.TF_LOG_LEVEL).toBe('expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(byVar.TF_DATABASE_URL).toBe('is required (a postgres:// connection URL)');
    expect(err.message).toContain('TF_HEALTH_PORT: expected an integer from 0 to 65535, got "http"');
  });

  it('never echoes a secret, whether marked, named like one, or shaped like one', () => {
    const err = errorOf(() =>
      loadConfig(Schema, {
        env: {
          TF_DATABASE_URL: 'mysql://admin:hunter2@db/tf',
          TF_NATS_PASSWORD: '   ',
          TF_NATS_URL: 'http://user:pa55word@nats',
          TF_API_KEY: '',
          TF_HEALTH_PORT: 'sk_live_abcdefghijklmnopqrstuvwxyz',
        },
      }),
    );
    expect(err.message).not.toMatch(/hunter2|pa55word|sk_live/);
    expect(JSON.stringify(err.details)).not.toMatch(/hunter2|pa55word|sk_live/);
    expect(err.problems.map((p) => p.variable).sort()).toEqual(['TF_DATABASE_URL', 'TF_HEALTH_PORT', 'TF_NATS_URL']);
  });

  it('refuses unknown settings in the file and an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-config-'));
    const file = join(dir, 'tf.json');
    writeFileSync(file, JSON.stringify({ nats: { urll: 'x' }, database: { url: 'postgres://x/y' } }));
    expect(errorOf(() => loadConfig(Schema, { env: { TF_CONFIG_FILE: file } })).problems).toEqual([
      { variable: 'TF_CONFIG_FILE', path: 'nats.urll', message: `unknown setting "nats.urll" in ${file}` },
    ]);
    expect(errorOf(() => loadConfig(Schema, { env: { TF_CONFIG_FILE: join(dir, 'missing.yaml') } })).problems[0]!.variable).toBe('TF_CONFIG_FILE');
  });

  it('describes every variable a schema reads', () => {
    const d = describeConfig(Schema);
    expect(d.find((v) => v.variable === 'TF_DATABASE_URL')).toMatchObject({ required: true, secret: true });
    expect(d.find((v) => v.variable === 'TF_HEALTH_PORT')).toMatchObject({ required: false, secret: false });
    expect(d.find((v) => v.variable === 'TF_UPSTREAM_TOKEN')?.secret).toBe(true);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1m30s', 90_000],
    ['250', 250],
    ['1.5s', 1500],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'soon', '5 minutes', '-1s', '5x', 's5'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});
