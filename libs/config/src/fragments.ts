import { Type } from '@sinclair/typebox';
import { Secret } from './schema.ts';

/** `TF_NATS_URL` (comma-separated for a cluster), `TF_NATS_USER`, `TF_NATS_PASSWORD`. */
export const NatsConfigSchema = Type.Object({
  url: Type.String({
    default: 'nats://127.0.0.1:4222',
    pattern: '^(nats|tls|ws|wss)://[^\\s]+$',
    description: 'a NATS URL such as nats://127.0.0.1:4222 (comma-separated for a cluster)',
  }),
  user: Type.Optional(Type.String({ minLength: 1 })),
  password: Type.Optional(Secret({ minLength: 1 })),
});

/** `TF_DATABASE_URL`: PostgreSQL connection string (treated as a secret: it may hold a password). */
export const DatabaseConfigSchema = Type.Object({
  url: Secret({ pattern: '^postgres(ql)?://', description: 'a postgres:// connection URL' }),
});

/** `TF_HEALTH_PORT`: where `/healthz` and `/readyz` listen (0 picks a free port). */
export const HealthConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 9400 }),
  host: Type.String({ default: '127.0.0.1', minLength: 1 }),
});

export const LogLevelSchema = Type.Union(
  [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
  { default: 'info' },
);

/**
 * What every service reads: NATS, the health port, its instance id (`TF_INSTANCE_ID`, default
 * `<hostname>-<pid>`) and its log level (`TF_LOG_LEVEL`). Extend it with
 * `Type.Object({ ...ServiceConfigSchema.properties, ... })`.
 */
export const ServiceConfigSchema = Type.Object({
  nats: NatsConfigSchema,
  health: HealthConfigSchema,
  instanceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$', description: 'letters, digits, _ . - (up to 100)' })),
  logLevel: LogLevelSchema,
});
