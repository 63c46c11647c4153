import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadOrCreateCa } from '@tameflare/proxy';
import { ensurePrivateDir } from '../state-dir.ts';
import { handleGithub, handleOpenai, handleSlack, handleStripe, type Reply } from './providers.ts';

export type FakeProvider = 'github' | 'stripe' | 'slack' | 'openai';

/** The real host each fake stands in for. */
const HOSTS: Record<FakeProvider, string> = { github: 'api.github.com', stripe: 'api.stripe.com', slack: 'slack.com', openai: 'api.openai.com' };
const HANDLERS: Record<FakeProvider, (req: SeenRequest) => Reply> = { github: handleGithub, stripe: handleStripe, slack: handleSlack, openai: handleOpenai };

/** A request as the fake API saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** True when it carried exactly the credential the gateway injects. */
  authorized: boolean;
}

export interface FakeUpstream {
  provider: FakeProvider;
  /** The host it stands in for, e.g. `api.github.com`. */
  host: string;
  port: number;
  /** `https://127.0.0.1:<port>` */
  origin: string;
  requests: SeenRequest[];
}

export interface FakeUpstreams {
  /** PEM file of the CA that signed the fakes' certificates: what the ingress must trust for them. */
  caFile: string;
  byProvider: Record<FakeProvider, FakeUpstream | undefined>;
  /** `TF_INGRESS_UPSTREAM_OVERRIDES`: each real host mapped to its fake. */
  overrides: string;
  close(): Promise<void>;
}

function authorizedBy(req: IncomingMessage, secret: string): boolean {
  return req.headers.authorization === `Bearer ${secret}`;
}

/**
 * Starts one HTTPS server per provider on 127.0.0.1, each with a certificate for the real host
 * name from a CA of its own (in `dir`), so only a client told to trust that CA (the ingress,
 * through TF_INGRESS_UPSTREAM_CA_FILES) can talk to them.
 */
export async function startFakeUpstreams(o: { dir: string; secrets: Partial<Record<FakeProvider, string>> }): Promise<FakeUpstreams> {
  ensurePrivateDir(o.dir);
  const ca = await loadOrCreateCa({ stateDir: o.dir, commonName: 'TameFlare fake upstreams CA' });
  const servers: Server[] = [];
  const byProvider = {} as Record<FakeProvider, FakeUpstream | undefined>;
  for (const provider of Object.keys(o.secrets) as FakeProvider[]) {
    const secret = o.secrets[provider]!;
    const host = HOSTS[provider];
    const leaf = await ca.issueLeaf(host);
    const requests: SeenRequest[] = [];
    const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), authorized: authorizedBy(req, secret) };
        requests.push(seen);
        const reply: Reply = seen.authorized ? HANDLERS[provider](seen) : unauthorized(provider);
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
        if (reply.stream) reply.stream(res);
        else res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    byProvider[provider] = { provider, host, port, origin: `https://127.0.0.1:${port}`, requests };
  }
  const upstreams = Object.values(byProvider).filter((u): u is FakeUpstream => u !== undefined);
  return {
    caFile: join(o.dir, 'ca.cert.pem'),
    byProvider,
    overrides: upstreams.map((u) => `${u.host}=${u.origin}`).join(','),
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

function unauthorized(provider: FakeProvider): Reply {
  switch (provider) {
    case 'github':
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
    case 'stripe':
      return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
    case 'slack':
      return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    case 'openai':
      return { status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } };
  }
}
