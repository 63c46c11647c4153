import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request exactly as a real SDK sent it. */
export interface CapturedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | null;
}

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** Answers a request after it is recorded; the default answers 200 with `{}` (Slack's `{"ok":true}`, GraphQL's `{"data":{}}`). */
  handler: (req: IncomingMessage, res: ServerResponse, captured: CapturedRequest) => void | Promise<void>;
  close(): Promise<void>;
}

export function defaultAnswer(_req: IncomingMessage, res: ServerResponse, captured: CapturedRequest): void {
  const body = captured.path.startsWith('/api/') && !captured.path.startsWith('/api/v3') && !captured.path.startsWith('/api/graphql') ? { ok: true } : captured.path.endsWith('graphql') ? { data: {} } : {};
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A local HTTP server that records every request (method, path, query, headers, body) before answering. */
export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const cs: CaptureServer = {
    url: '',
    requests,
    handler: defaultAnswer,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const captured: CapturedRequest = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? '' : url.slice(q + 1),
      headers: { ...req.headers },
      body: chunks.length ? Buffer.concat(chunks) : null,
    };
    requests.push(captured);
    try {
      await cs.handler(req, res, captured);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    }
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cs.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return cs;
}
