import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { uuidv7 } from '@tameflare/contracts';
import { ProblemTypes } from './problem.ts';
import { openTunnel } from './test/clients.ts';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { createUpstreamTls, startHttpsUpstream, type TestUpstream } from './test/upstream.ts';

async function startWsUpstream(server: Server) {
  const wss = new WebSocketServer({ server });
  const handshakes: Record<string, string | string[] | undefined>[] = [];
  wss.on('connection', (ws, req) => {
    handshakes.push(req.headers);
    ws.on('message', (m) => ws.send(`echo: ${m.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    handshakes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function wsThrough(tunnel: import('node:stream').Duplex, url: string): WebSocket {
  return new WebSocket(url, { createConnection: () => tunnel as unknown as import('node:net').Socket });
}

describe('WebSockets and plain tunnels', () => {
  let gw: TestGateway;
  let wsPlain: Awaited<ReturnType<typeof startWsUpstream>>;
  let wsTls: Awaited<ReturnType<typeof startWsUpstream>>;
  let files: TestUpstream;
  let upstreamTls: Awaited<ReturnType<typeof createUpstreamTls>>;

  beforeAll(async () => {
    upstreamTls = await createUpstreamTls(['ws.example.test']);
    const filesTls = await createUpstreamTls(['files.example.test']);
    wsPlain = await startWsUpstream(createHttpServer());
    wsTls = await startWsUpstream(createHttpsServer({ cert: upstreamTls.cert, key: upstreamTls.key }));
    files = await startHttpsUpstream(filesTls);
    gw = await startTestGateway({
      routes: {
        'ws.example.test': { connector: 'realtime', intercept: true, injection: null },
        'files.example.test': { connector: 'files', intercept: false, injection: null },
        'blocked-tunnel.test': { connector: 'blocked', intercept: false, injection: null },
      },
      rules: [(r) => (r.data.request.path.startsWith('/forbidden') || r.data.request.host === 'blocked-tunnel.test' ? 'deny' : 'allow')],
      upstreamOverrides: {
        'ws.example.test:80': `http://127.0.0.1:${wsPlain.port}`,
        'ws.example.test:443': `https://127.0.0.1:${wsTls.port}`,
        'files.example.test:443': files.origin,
        'blocked-tunnel.test:443': files.origin,
      },
      upstreamCa: [upstreamTls.ca.certPem],
    });
    (files as TestUpstream & { ca?: string }).ca = filesTls.ca.certPem;
  });
  afterEach(async () => {
    gw.killSwitch.delete('all');
    await gw.settled();
  });
  afterAll(async () => {
    await gw?.close();
    await wsPlain?.close();
    await wsTls?.close();
    await files?.close();
    upstreamTls?.dispose();
  });

  for (const [scheme, port] of [
    ['wss', 443],
    ['ws', 80],
  ] as const) {
    it(`governs the ${scheme}:// handshake as an action, then relays frames both ways`, async () => {
      const tunnel = await openTunnel(gw.proxyUrl, 'ws.example.test', port, scheme === 'wss' ? { ca: gw.ca.certPem } : undefined);
      const ws = wsThrough(tunnel, `${scheme}://ws.example.test/chat`);
      await once(ws, 'open');
      ws.send('hello');
      const [msg] = await once(ws, 'message');
      expect(String(msg)).toBe('echo: hello');
      ws.send('again');
      expect(String((await once(ws, 'message'))[0])).toBe('echo: again');
      const up = scheme === 'wss' ? wsTls : wsPlain;
      expect(up.handshakes.at(-1)!.host).toBe('ws.example.test');
      expect(up.handshakes.at(-1)!['proxy-authorization']).toBeUndefined();
      ws.close();
      await once(ws, 'close');
      await gw.settled();
      const requested = gw.events.filter((e) => e.type === 'ActionRequested').at(-1)!;
      expect(requested.data).toMatchObject({ request: { scheme, method: 'GET', path: '/chat' }, action: { type: 'http.get', connector: 'realtime' } });
      const completed = gw.eventsOf(requested.id).find((e) => e.type === 'ActionCompleted')!;
      expect(completed.data).toMatchObject({ outcome: 'completed', status: 101, forwarded: true });
      expect((completed.data as { bytesIn: number }).bytesIn).toBeGreaterThan(0);
      expect((completed.data as { bytesOut: number }).bytesOut).toBeGreaterThan(0);
    });
  }

  it('answers a denied WebSocket handshake with the 403 problem, and the upstream sees no handshake', async () => {
    const before = wsTls.handshakes.length;
    const tunnel = await openTunnel(gw.proxyUrl, 'ws.example.test', 443, { ca: gw.ca.certPem });
    const ws = wsThrough(tunnel, 'wss://ws.example.test/forbidden');
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    expect(res.statusCode).toBe(403);
    let body = '';
    for await (const c of res) body += c;
    expect(JSON.parse(body)).toMatchObject({ type: ProblemTypes.policyDenied, action: 'http.get' });
    expect(wsTls.handshakes.length).toBe(before);
  });

  it('cuts an open WebSocket when the kill switch is engaged', async () => {
    const tunnel = await openTunnel(gw.proxyUrl, 'ws.example.test', 443, { ca: gw.ca.certPem });
    const ws = wsThrough(tunnel, 'wss://ws.example.test/chat');
    await once(ws, 'open');
    const closed = once(ws, 'close');
    gw.killSwitch.set({ killSwitchId: uuidv7(), scope: { kind: 'all' }, reason: 'stop', engagedBy: 'ops', engagedAt: new Date().toISOString() });
    expect(gw.proxy.enforceKillSwitch()).toBe(1);
    await closed;
    await gw.settled();
    expect(gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!.data).toMatchObject({ outcome: 'killed' });
  });

  it('tunnels an allowed pass-through host without interception and records the tunnel when it closes', async () => {
    const ca = (files as TestUpstream & { ca: string }).ca;
    const tunnel = await openTunnel(gw.proxyUrl, 'files.example.test', 443, { ca });
    // TLS was verified against the upstream's own CA, not the gateway's: nothing was intercepted.
    tunnel.end('GET /raw HTTP/1.1\r\nHost: files.example.test\r\nConnection: close\r\n\r\n');
    let response = '';
    for await (const c of tunnel) response += c;
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(files.captured.at(-1)!.url).toBe('/raw');
    await gw.settled();
    const requested = gw.events.filter((e) => e.type === 'ActionRequested').at(-1)!;
    expect(requested.data).toMatchObject({ request: { method: 'CONNECT', host: 'files.example.test', port: 443 }, action: { type: 'http.connect' } });
    const completed = gw.eventsOf(requested.id).find((e) => e.type === 'ActionCompleted')!;
    expect(completed.data).toMatchObject({ outcome: 'completed', status: 200, forwarded: true });
    expect((completed.data as { bytesOut: number }).bytesOut).toBeGreaterThan(100);
  });

  it('refuses a denied pass-through tunnel at CONNECT with the 403 problem', async () => {
    const err = (await openTunnel(gw.proxyUrl, 'blocked-tunnel.test', 443).catch((e: unknown) => e)) as Error & { response: string };
    expect(err.message).toMatch(/403/);
    const body = err.response.slice(err.response.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toMatchObject({ type: ProblemTypes.policyDenied, action: 'http.connect' });
  });
});
