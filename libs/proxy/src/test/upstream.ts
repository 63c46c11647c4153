/**
 * Local upstream servers for proxy tests: they record exactly what reached them (method, path,
 * headers, body bytes) and offer echo, SSE and streaming endpoints.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa, type CertificateAuthority } from '../ca.ts';

export interface Captured {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
  /** The body, kept only when under 1 MiB. */
  body: Buffer | null;
}

export interface TestUpstream {
  /** `http://127.0.0.1:<port>` or `https://127.0.0.1:<port>` */
  origin: string;
  port: number;
  captured: Captured[];
  /** Set by /sse when the last event was written. */
  sse: { finishedAt: number | null; release: (() => void) | null };
  close(): Promise<void>;
}

export interface UpstreamTls {
  ca: CertificateAuthority;
  /** Host names the upstream's certificate is valid for. */
  hosts: string[];
  dispose(): void;
}

/** An independent CA and leaf for an HTTPS upstream (what a real API's public certificate stands in for). */
export async function createUpstreamTls(hosts: string[]): Promise<UpstreamTls & { cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-upstream-ca-'));
  const ca = await loadOrCreateCa({ stateDir: dir, commonName: 'Test upstream CA' });
  // One leaf per host is enough for tests; the server presents the first and SNI picks the rest.
  const leaf = await ca.issueLeaf(hosts[0]!);
  return { ca, hosts, cert: leaf.certPem, key: leaf.keyPem, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `n` bytes cycling through every byte value, so any mangling (encoding, truncation) shows. */
export function patternBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

function handler(captured: Captured[], sse: TestUpstream['sse']) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      length += c.length;
      if (length <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const rec: Captured = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: length,
        bodySha256: hash.digest('hex'),
        body: length <= 1024 * 1024 ? Buffer.concat(chunks) : null,
      };
      captured.push(rec);
      const path = req.url!.split('?')[0];
      if (path === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        // The rest waits until the test has seen the first event arrive.
        sse.release = () => {
          res.write('data: second\n\n');
          res.end('data: [DONE]\n\n');
          sse.finishedAt = performance.now();
        };
        return;
      }
      if (path === '/echo-auth') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`you sent: ${req.headers.authorization ?? ''}`);
        return;
      }
      if (path === '/pattern') {
        const n = Number(new URL(req.url!, 'http://x').searchParams.get('bytes') ?? 1024);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        res.end(patternBytes(n));
        return;
      }
      if (path === '/big') {
        const n = Number(new URL(req.url!, 'http://x').searchParams.get('bytes') ?? 1024);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        res.end(Buffer.alloc(n, 0x61));
        return;
      }
      const body = JSON.stringify({ ok: true, method: req.method, url: req.url, bodyLength: length, bodySha256: rec.bodySha256 });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', 'set-cookie': ['a=1', 'b=2'] });
      res.end(body);
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** Starts a plain HTTP upstream on 127.0.0.1. */
export async function startHttpUpstream(): Promise<TestUpstream> {
  const captured: Captured[] = [];
  const sse: TestUpstream['sse'] = { finishedAt: null, release: null };
  const server = createHttpServer(handler(captured, sse));
  const port = await listen(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    captured,
    sse,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** Starts an HTTPS upstream on 127.0.0.1 with a certificate from `tls`. */
export async function startHttpsUpstream(tls: { cert: string; key: string }): Promise<TestUpstream> {
  const captured: Captured[] = [];
  const sse: TestUpstream['sse'] = { finishedAt: null, release: null };
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, handler(captured, sse));
  const port = await listen(server);
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    captured,
    sse,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
