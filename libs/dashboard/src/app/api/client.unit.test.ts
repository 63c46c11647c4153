import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// createGraphQLError, not graphql's class: under Vitest the test file and yoga may load two copies of graphql.
import { createGraphQLError, createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client.ts';
import type { ApiError } from './errors.ts';

// A real graphql-yoga server (the audit API's server library) with the same auth shape: the
// client is tested against yoga's own HTTP and SSE answers, not a hand-made imitation.
const TOKEN = 'tfa_good_token_0123456789';
let server: Server;
let endpoint: string;

beforeAll(async () => {
  const yoga = createYoga<{ req: unknown }>({
    graphqlEndpoint: '/graphql',
    logging: false,
    schema: createSchema({
      typeDefs: 'type Query { viewer: String! refuse: Int } type Subscription { ticks(n: Int!): Int! }',
      resolvers: {
        Query: {
          viewer: () => 'alice',
          refuse: () => {
            throw createGraphQLError('approval is granted', { extensions: { code: 'COMMAND_REFUSED', tfCode: 'TF_ERR_APPROVAL_ALREADY_DECIDED' } });
          },
        },
        Subscription: {
          ticks: {
            subscribe: async function* (_: unknown, { n }: { n: number }) {
              for (let i = 1; i <= n; i++) {
                await new Promise((r) => setTimeout(r, 5));
                yield { ticks: i };
              }
            },
          },
        },
      },
    }),
    context: ({ request }) => {
      if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) {
        throw createGraphQLError('unknown or revoked API token', { extensions: { code: 'UNAUTHENTICATED', tfCode: 'TF_ERR_AUTH_INVALID', http: { status: 401 } } });
      }
      return {};
    },
  });
  server = createServer(yoga);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function closedPortEndpoint(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}/graphql`;
}

describe('createApiClient', () => {
  it('runs a query with the bearer token', async () => {
    const c = createApiClient({ endpoint, token: TOKEN });
    expect(await c.request<{ viewer: string }>('{ viewer }')).toEqual({ viewer: 'alice' });
  });

  it('a wrong token is "unauthenticated" and reported once to end the session', async () => {
    const seen: ApiError[] = [];
    const c = createApiClient({ endpoint, token: 'tfa_wrong_token_000000000', onUnauthenticated: (e) => seen.push(e) });
    await expect(c.request('{ viewer }')).rejects.toMatchObject({ kind: 'unauthenticated', code: 'TF_ERR_AUTH_INVALID' });
    expect(seen).toHaveLength(1);
  });

  it('a refused command keeps its TameFlare code and message', async () => {
    const c = createApiClient({ endpoint, token: TOKEN });
    await expect(c.request('{ refuse }')).rejects.toMatchObject({ kind: 'rejected', code: 'TF_ERR_APPROVAL_ALREADY_DECIDED', message: 'approval is granted' });
  });

  it('an API that is not listening is "unreachable"', async () => {
    const c = createApiClient({ endpoint: await closedPortEndpoint(), token: TOKEN });
    await expect(c.request('{ viewer }')).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('a subscription over SSE delivers every event, then completes', async () => {
    const c = createApiClient({ endpoint, token: TOKEN });
    const got: number[] = [];
    let opened = false;
    await new Promise<void>((resolve, reject) => {
      c.subscribe<{ ticks: number }>('subscription ($n: Int!) { ticks(n: $n) }', { n: 3 }, {
        onOpen: () => (opened = true),
        onNext: (d) => got.push(d.ticks),
        onError: (e) => reject(new Error(e.message)),
        onComplete: resolve,
      });
    });
    expect(opened).toBe(true);
    expect(got).toEqual([1, 2, 3]);
  });

  it('a subscription with a wrong token fails as "unauthenticated"; one to a dead API as "unreachable"', async () => {
    const bad = createApiClient({ endpoint, token: 'tfa_wrong_token_000000000' });
    const e1 = await new Promise<ApiError>((resolve) => bad.subscribe('subscription { ticks(n: 1) }', {}, { onNext: () => undefined, onError: resolve }));
    expect(e1.kind).toBe('unauthenticated');
    const dead = createApiClient({ endpoint: await closedPortEndpoint(), token: TOKEN });
    const e2 = await new Promise<ApiError>((resolve) => dead.subscribe('subscription { ticks(n: 1) }', {}, { onNext: () => undefined, onError: resolve }));
    expect(e2.kind).toBe('unreachable');
  });

  it('stopping a subscription delivers nothing more', async () => {
    const c = createApiClient({ endpoint, token: TOKEN });
    const got: number[] = [];
    await new Promise<void>((resolve) => {
      const stop = c.subscribe<{ ticks: number }>('subscription { ticks(n: 50) }', {}, {
        onNext: (d) => {
          got.push(d.ticks);
          if (d.ticks === 2) {
            stop();
            setTimeout(resolve, 100);
          }
        },
        onError: () => undefined,
      });
    });
    expect(got).toEqual([1, 2]);
  });
});
