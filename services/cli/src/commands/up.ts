import type { ServiceName, StackInfo } from '@tameflare/stack/client';
import { intOpt, stringOpt } from '../args.ts';
import type { ParsedArgs } from '../registry.ts';
import { usageError } from '../errors.ts';
import { formatMs } from '../output.ts';
import { defineCommand } from '../registry.ts';
import type { Output } from '../output.ts';

/** Addresses `tf up` tries first, so a local stack keeps its URLs across restarts when it can. */
export const PREFERRED_PORTS = { nats: 4223, proxy: 9480, graphql: 4000 } as const;

const SERVICES = ['vault', 'policy', 'approval', 'control', 'recorder', 'projector', 'audit-api', 'ingress'];

/** `--replicas policy=2,recorder=2` (and `--ingress-replicas N`) as a count per service. */
export function replicasOf(args: ParsedArgs): Partial<Record<ServiceName, number>> {
  const out: Partial<Record<ServiceName, number>> = {};
  const spec = stringOpt(args, 'replicas');
  for (const pair of spec ? spec.split(',').map((p) => p.trim()).filter(Boolean) : []) {
    const m = /^([a-z-]+)=(\d+)$/.exec(pair);
    if (!m || !SERVICES.includes(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 16) {
      throw usageError(`--replicas: ${JSON.stringify(pair)} is not SERVICE=N`, `services: ${SERVICES.join(', ')}; N from 1 to 16, e.g. --replicas policy=2,ingress=3`);
    }
    out[m[1] as ServiceName] = Number(m[2]);
  }
  const ingress = intOpt(args, 'ingress-replicas', undefined, { min: 1, max: 16 });
  if (ingress !== undefined) out.ingress = ingress;
  return out;
}

export function printStackInfo(out: Output, info: StackInfo): void {
  out.line(`  proxy     ${info.proxies.map((p) => p.url).join(', ')}`);
  out.line(`  GraphQL   ${info.graphqlUrl}`);
  out.line(`  NATS      ${info.natsUrl}`);
  out.line(`  database  ${info.database}`);
  out.line(`  state     ${info.stateDir}`);
}

export default defineCommand({
  name: 'up',
  summary: 'start the local stack (NATS, database, every service) and wait until it is ready',
  usage: 'tf up [--ingress-replicas N] [--replicas SERVICE=N,...] [--proxy-port P] [--graphql-port P] [--nats-port P] [--database-url URL]',
  description: `
Starts a private nats-server (its own port, JetStream store and users), creates the PostgreSQL
database and runs the migrations, creates streams and KV buckets, then starts every service as
its own process and waits for each /readyz. The first start also creates the vault master key,
the ingress CA, the default gateway with the default policy, and a bootstrap admin API token
(in <state>/cli/admin-token). Running tf up again while the stack is healthy changes nothing.`,
  options: {
    'ingress-replicas': { type: 'string', valueName: 'N', description: 'ingress replicas, each on its own port (default 1)' },
    replicas: { type: 'string', valueName: 'SERVICE=N,...', description: 'instances of any service, e.g. policy=2,recorder=2 (default 1 each)' },
    'proxy-port': { type: 'string', valueName: 'PORT', description: `the first ingress's proxy port (default ${PREFERRED_PORTS.proxy}, or a free one)` },
    'graphql-port': { type: 'string', valueName: 'PORT', description: `the audit API's port (default ${PREFERRED_PORTS.graphql}, or a free one)` },
    'nats-port': { type: 'string', valueName: 'PORT', description: `the private nats-server's port (default ${PREFERRED_PORTS.nats}, or a free one)` },
    'database-url': { type: 'string', valueName: 'URL', description: 'PostgreSQL (default $TF_DATABASE_URL or postgres://postgres@127.0.0.1:5432/tameflare)' },
  },
  json: true,
  examples: ['tf up', 'tf up --ingress-replicas 2', 'tf up --replicas policy=2,recorder=2', 'tf --state-dir /tmp/tf-staging up --proxy-port 9580'],
  async run(ctx, args) {
    const replicas = replicasOf(args);
    const port = (name: string) => intOpt(args, name, undefined, { min: 1, max: 65535 });
    const databaseUrl = stringOpt(args, 'database-url');
    if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw usageError('--database-url must be a postgres:// URL');
    const proxyPort = port('proxy-port');
    // Loaded here, not at start-up: it brings the database, audit and vault libraries.
    const { startStack } = await import('@tameflare/stack');
    const result = await startStack({
      ...(ctx.stateDir ? { stateDir: ctx.stateDir } : {}),
      ...(databaseUrl ? { databaseUrl } : {}),
      replicas,
      ports: {
        ...(port('nats-port') ? { nats: port('nats-port')! } : {}),
        ...(proxyPort ? { proxy: [proxyPort] } : {}),
        ...(port('graphql-port') ? { graphql: port('graphql-port')! } : {}),
      },
      preferredPorts: PREFERRED_PORTS,
      actor: ctx.actor,
      onProgress: (p) => {
        const count = p.total ? ` [${p.ready}/${p.total}]` : '';
        ctx.out.progress(`tf up: ${p.message}${count}`);
      },
    });
    ctx.out.endProgress();
    ctx.out.result({ ...result.info, alreadyRunning: result.alreadyRunning, durationMs: Math.round(result.durationMs) }, () => {
      const s = ctx.out.style;
      ctx.out.line(result.alreadyRunning ? s.green('The stack is already running.') : s.green(`The stack is ready (${formatMs(result.durationMs)}).`));
      printStackInfo(ctx.out, result.info);
      ctx.out.line('');
      ctx.out.line(`Run an agent through it:  tf run -- my-agent python agent.py`);
      ctx.out.line(`Stop it:                  tf down`);
    });
  },
});
