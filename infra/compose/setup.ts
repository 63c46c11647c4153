/**
 * Creates what the docker-compose deployment needs and must never be committed:
 *
 *   node infra/compose/setup.ts [--uid 1000]
 *
 * - infra/compose/.env (0600): a password per NATS user, the NATS route password, the
 *   PostgreSQL password, and the SHA-256 of a bootstrap admin API token;
 * - infra/compose/secrets/vault-master-key (0600, owned by --uid, the image's `node` user);
 * - infra/compose/secrets/admin-token (0600): the token itself, for `tf` and the dashboard.
 *
 * Existing values are kept; only missing ones are created, so running it again is safe.
 * Passwords are `tf` + 40 hex characters: nats-server parses an environment value that starts
 * with a digit as a number, and a route URL cannot carry `/`, `+` or `=` unescaped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { natsPasswordEnv, natsUsers } from '@tameflare/contracts';
import { generateMasterKey } from '@tameflare/vault-crypto';

export const composeDir = import.meta.dirname;

/** Every variable docker-compose.yml requires from infra/compose/.env. */
export function requiredEnvVariables(): string[] {
  return ['TF_POSTGRES_PASSWORD', 'TF_NATS_ROUTE_PASSWORD', ...natsUsers.map(natsPasswordEnv), 'TF_AUDIT_API_BOOTSTRAP_ADMIN_TOKEN_SHA256'];
}

const password = () => `tf${randomBytes(20).toString('hex')}`;

function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

function writePrivate(path: string, text: string, uid?: number): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  if (uid !== undefined && process.getuid?.() === 0) chownSync(path, uid, uid);
}

/** Writes whatever is missing into `dir`; returns the names it created. */
export function setup(dir = composeDir, options: { uid?: number } = {}): string[] {
  const created: string[] = [];
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });

  const tokenFile = join(secrets, 'admin-token');
  if (!existsSync(tokenFile)) {
    writePrivate(tokenFile, `tfa_${randomBytes(24).toString('base64url')}\n`);
    created.push('secrets/admin-token');
  }
  const token = readFileSync(tokenFile, 'utf8').trim();

  const keyFile = join(secrets, 'vault-master-key');
  if (!existsSync(keyFile)) {
    writePrivate(keyFile, generateMasterKey() + '\n', options.uid);
    created.push('secrets/vault-master-key');
  }

  const envFile = join(dir, '.env');
  const env = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : new Map<string, string>();
  for (const name of requiredEnvVariables()) {
    if (env.has(name)) continue;
    env.set(name, name === 'TF_AUDIT_API_BOOTSTRAP_ADMIN_TOKEN_SHA256' ? createHash('sha256').update(token).digest('hex') : password());
    created.push(name);
  }
  const lines = ['# Written by infra/compose/setup.ts. Secrets: keep this file 0600 and out of version control.', ...[...env].map(([k, v]) => `${k}=${v}`)];
  writePrivate(envFile, lines.join('\n') + '\n');
  return created;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { uid: { type: 'string', default: '1000' }, dir: { type: 'string' } } });
  const uid = Number(values.uid);
  if (!Number.isInteger(uid) || uid < 0) {
    process.stderr.write(`setup: --uid must be a user id, got ${JSON.stringify(values.uid)}\n`);
    process.exit(1);
  }
  const created = setup(values.dir ?? composeDir, { uid });
  process.stderr.write(created.length ? `created: ${created.join(', ')}\n` : 'nothing to create: every value exists\n');
  if (process.getuid?.() !== 0) process.stderr.write(`run as root, or chown ${uid}:${uid} infra/compose/secrets/vault-master-key, so the vault container (uid ${uid}) can read it\n`);
}
