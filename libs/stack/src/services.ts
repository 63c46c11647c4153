import { join, resolve } from 'node:path';
import type { NatsUser } from '@tameflare/contracts';
import type { StatePaths } from './state-dir.ts';

/** Every service of a stack, in start order (ingress last: it serves agents once the rest is up). */
export const SERVICE_NAMES = ['vault', 'policy', 'approval', 'control', 'recorder', 'projector', 'audit-api', 'ingress'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The repository root, where `services/<name>/src/main.ts` lives. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** The file a service process runs: `node services/<name>/src/main.ts`. */
export function serviceMain(name: ServiceName): string {
  return join(REPO_ROOT, 'services', name, 'src', 'main.ts');
}

/** What one instance of a service needs to start: its settings beyond the common ones. */
export interface InstancePlan {
  service: ServiceName;
  /** `TF_INSTANCE_ID`, e.g. `ingress-2`. */
  instanceId: string;
  natsUser: NatsUser;
  healthPort: number;
  /** The ingress's proxy port. */
  proxyPort?: number;
  /** The audit API's HTTP port. */
  httpPort?: number;
}

export interface ServiceEnvContext {
  paths: StatePaths;
  databaseUrl: string;
  natsUrl: string;
  password: string;
  logLevel: string;
}

/**
 * The environment of one service instance: NATS as its own user of the permission matrix, its
 * health port, the database, and the service's own settings pointing into the state directory.
 * Nothing else from the caller's environment is passed but PATH, HOME and OTEL_*.
 */
export function serviceEnv(plan: InstancePlan, ctx: ServiceEnvContext, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? ctx.paths.root,
    TF_NATS_URL: ctx.natsUrl,
    TF_NATS_USER: plan.natsUser,
    TF_NATS_PASSWORD: ctx.password,
    TF_HEALTH_HOST: '127.0.0.1',
    TF_HEALTH_PORT: String(plan.healthPort),
    TF_INSTANCE_ID: plan.instanceId,
    TF_LOG_LEVEL: ctx.logLevel,
  };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('OTEL_') && v !== undefined) env[k] = v;
  if (plan.service !== 'ingress') env.TF_DATABASE_URL = ctx.databaseUrl;
  switch (plan.service) {
    case 'vault':
      env.TF_VAULT_MASTER_KEY_FILE = ctx.paths.masterKey;
      break;
    case 'projector':
      env.TF_PROJECTOR_STATE_DIR = ctx.paths.projectorDir;
      break;
    case 'audit-api':
      env.TF_AUDIT_API_HOST = '127.0.0.1';
      env.TF_AUDIT_API_PORT = String(plan.httpPort);
      break;
    case 'ingress':
      env.TF_INGRESS_HOST = '127.0.0.1';
      env.TF_INGRESS_PORT = String(plan.proxyPort);
      env.TF_INGRESS_STATE_DIR = ctx.paths.ingressDir;
      break;
    default:
      break;
  }
  return { ...env, ...extra };
}
