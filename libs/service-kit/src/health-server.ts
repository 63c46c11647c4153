import fastify, { type FastifyInstance } from 'fastify';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/**
 * `/healthz` answers 200 while the process lives; `/readyz` answers 200 only when every check
 * passes, 503 with the failing checks otherwise (so a load balancer or `tf status` can say why).
 */
export async function startHealthServer(options: { host: string; port: number; readiness: () => ReadinessReport }): Promise<{ app: FastifyInstance; port: number }> {
  const app = fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = options.readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
  });
  await app.listen({ host: options.host, port: options.port });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : options.port };
}
