/**
 * The nats-server configuration every node of the docker-compose NATS cluster loads
 * (infra/compose/nats/nats.conf): client, monitoring and route listeners, JetStream, route
 * credentials, and one user per service from the permission matrix in
 * libs/contracts/src/permissions.ts. The file holds no secret: passwords are read from the
 * node's environment (`$TF_NATS_PASSWORD_<USER>`, `$TF_NATS_ROUTE_PASSWORD`), and so is the
 * node's name (`$TF_NATS_SERVER_NAME`).
 *
 *   node infra/compose/nats-config.ts           # rewrites infra/compose/nats/nats.conf
 *   node infra/compose/nats-config.ts --check   # exits 1 when the file is not what the matrix gives
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsAuthorizationConfig } from '@tameflare/contracts';

/** Where docker-compose.yml mounts it from. */
export const composeNatsConfigPath = join(import.meta.dirname, 'nats', 'nats.conf');

/** The cluster's name; every node of one cluster uses the same. */
export const CLUSTER_NAME = 'tameflare';

export function composeNatsConfig(): string {
  return [
    '# Generated from libs/contracts/src/permissions.ts by infra/compose/nats-config.ts. Do not edit by hand.',
    '# One file for every node of the cluster; the node name, store and every password come from the environment.',
    'server_name: $TF_NATS_SERVER_NAME',
    'listen: "0.0.0.0:4222"',
    'http_port: 8222',
    'jetstream { store_dir: $TF_NATS_STORE_DIR, max_file_store: 20GB }',
    'cluster {',
    `  name: "${CLUSTER_NAME}"`,
    '  listen: "0.0.0.0:6222"',
    '  # Routes (given on the command line, with these credentials) are refused without them.',
    '  authorization { user: "route", password: $TF_NATS_ROUTE_PASSWORD }',
    '}',
    '',
  ].join('\n') + natsAuthorizationConfig({ passwords: 'env' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--check') {
    if (readFileSync(composeNatsConfigPath, 'utf8') !== composeNatsConfig()) {
      process.stderr.write(`${composeNatsConfigPath} is out of date with libs/contracts/src/permissions.ts: run node infra/compose/nats-config.ts\n`);
      process.exit(1);
    }
    process.stderr.write(`${composeNatsConfigPath} is up to date\n`);
  } else {
    writeFileSync(composeNatsConfigPath, composeNatsConfig());
    process.stderr.write(`wrote ${composeNatsConfigPath}\n`);
  }
}
