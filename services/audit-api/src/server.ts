import type { IncomingMessage } from 'node:http';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type pg from 'pg';
import { opsDb, readModelDb } from '@tameflare/audit';
import type { Bus } from '@tameflare/messaging';
import { isTameFlareError } from '@tameflare/contracts';
import { AuthErrorCode, type Authenticator } from './auth/authenticate.ts';
import type { Principal } from './auth/roles.ts';
import { createLoaders, type AuditContext } from './graphql/context.ts';
import { toClientError } from './graphql/errors.ts';
import { defaultLimits, useQueryLimits, type QueryLimits } from './graphql/limits.ts';
import { buildResolvers } from './graphql/resolvers/index.ts';
import { typeDefs } from './graphql/type-defs.ts';
import { registerDashboard } from './http/dashboard.ts';

export interface AuditApiLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface AuditApiOptions {
  /** Pool of the database holding the read models (`createAuditPool`). */
  pool: pg.Pool;
  bus: Bus;
  authenticator: Authenticator;
  log: AuditApiLog;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  limits?: Partial<QueryLimits>;
  /** Most actions one `policyBacktest` may replay (default 1,000,000). */
  backtestMaxActions?: number;
  /** Directory of the dashboard's static files; null serves none. */
  dashboardDir?: string | null;
}

export interface AuditApi {
  readonly app: FastifyInstance;
  /** `http://host:port` */
  readonly url: string;
  /** Stops accepting requests and closes WebSocket subscriptions. */
  close(): Promise<void>;
}

type ServerContext = { principal: Principal };

function authStatus(err: unknown): { status: number; code: string } {
  if (isTameFlareError(err, AuthErrorCode.Unavailable)) return { status: 503, code: 'SERVICE_UNAVAILABLE' };
  return { status: 401, code: 'UNAUTHENTICATED' };
}

/** One-at-a-time gate for backtests, which are CPU-bound in this process. */
function serialGate() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * The audit API: GraphQL (graphql-yoga on fastify) at `/graphql` for queries and mutations, with
 * subscriptions over SSE (the default) or WebSocket (graphql-ws, same path), and the dashboard's
 * static files at `/`. Every request needs an API token: without a valid one the answer is 401
 * and nothing else (not even the schema).
 */
export async function createAuditApi(options: AuditApiOptions): Promise<AuditApi> {
  const db = readModelDb(options.pool);
  const ops = opsDb(options.pool);
  const limits = { ...defaultLimits, ...options.limits };
  const gate = serialGate();
  const backtest = { maxActions: options.backtestMaxActions ?? 1_000_000, run: gate };

  const yoga: YogaServerInstance<ServerContext, AuditContext> = createYoga<ServerContext, AuditContext>({
    schema: createSchema<AuditContext>({ typeDefs, resolvers: buildResolvers() }),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    maskedErrors: { maskError: toClientError },
    plugins: [useQueryLimits(limits)],
    context: ({ principal }): AuditContext => ({ principal, db, ops, bus: options.bus, loaders: createLoaders(db), backtest }),
    logging: {
      debug: (...a: unknown[]) => options.log.debug?.({ yoga: a.map(String) }, 'graphql'),
      info: (...a: unknown[]) => options.log.info({ yoga: a.map(String) }, 'graphql'),
      warn: (...a: unknown[]) => options.log.warn({ yoga: a.map(String) }, 'graphql'),
      error: (...a: unknown[]) => options.log.error({ err: a[0] instanceof Error ? a[0] : String(a[0]) }, 'graphql error'),
    },
  });

  const app = fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    let principal: Principal;
    try {
      principal = await options.authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      const { status, code } = authStatus(err);
      return reply
        .code(status)
        .header('www-authenticate', 'Bearer realm="tameflare"')
        .type('application/json')
        .send({ errors: [{ message: (err as Error).message, extensions: { code, tfCode: isTameFlareError(err) ? err.code : undefined } }] });
    }
    const response = await yoga.handleNodeRequestAndResponse(req, reply, { principal });
    response.headers.forEach((value, key) => void reply.header(key, value));
    reply.status(response.status);
    reply.send(response.body);
    return reply;
  };
  app.route({ url: '/graphql', method: ['GET', 'POST', 'OPTIONS'], handler });
  await registerDashboard(app, options.dashboardDir === undefined ? undefined : options.dashboardDir);

  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  type WsExtra = { request: IncomingMessage; principal?: Principal };
  useServer<Record<string, unknown>, WsExtra>(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      // The token comes in connection params ({ authorization: "Bearer ..." }) or the upgrade request's header.
      onConnect: async (ctx) => {
        const header = (ctx.connectionParams?.authorization as string | undefined) ?? ctx.extra.request.headers.authorization;
        try {
          ctx.extra.principal = await options.authenticator.authenticate(header);
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ principal: ctx.extra.principal!, params: payload });
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err as never];
        }
        const args = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
  );

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 4000 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 4000);
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  options.log.info({ url }, 'audit API listening');
  return {
    app,
    url,
    close: async () => {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      await app.close();
    },
  };
}
