/**
 * Writes the nats-server configuration for TameFlare: one user per service with the subject
 * permissions of libs/contracts/src/permissions.ts.
 *
 *   node infra/nats/generate.ts                    # infra/nats/nats-server.conf, passwords from $TF_NATS_PASSWORD_<USER>
 *   node infra/nats/generate.ts --out FILE --listen 127.0.0.1:4222 --store-dir DIR
 *
 * With `--passwords-file FILE` (JSON `{ "ingress": "...", ... }`, mode 0600) the passwords are
 * written into the file itself, which is then created with mode 0600.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { natsServerConfig, type NatsUser } from '@tameflare/contracts';

export { natsServerConfig, natsAuthorizationConfig, natsPermissions, natsUsers, inboxPrefixFor, natsPasswordEnv } from '@tameflare/contracts';

/** Where the checked-in example configuration lives. */
export const exampleConfigPath = join(dirname(fileURLToPath(import.meta.url)), 'nats-server.conf');

/** The checked-in example: passwords come from the environment, so the file holds no secret. */
export function exampleConfig(): string {
  return natsServerConfig({ passwords: 'env' });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: exampleConfigPath },
      listen: { type: 'string' },
      'store-dir': { type: 'string' },
      'server-name': { type: 'string' },
      'passwords-file': { type: 'string' },
    },
  });
  let passwords: Partial<Record<NatsUser, string>> | 'env' = 'env';
  const pf = values['passwords-file'];
  if (pf) {
    if ((statSync(pf).mode & 0o077) !== 0) throw new Error(`${pf} must have mode 0600 or stricter`);
    passwords = JSON.parse(readFileSync(pf, 'utf8')) as Partial<Record<NatsUser, string>>;
  }
  const text = natsServerConfig({
    passwords,
    ...(values.listen ? { listen: values.listen } : {}),
    ...(values['store-dir'] ? { storeDir: values['store-dir'] } : {}),
    ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
  });
  writeFileSync(values.out!, text, { mode: passwords === 'env' ? 0o644 : 0o600 });
  process.stderr.write(`wrote ${values.out}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
