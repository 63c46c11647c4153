import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { uuidv7 } from '@tameflare/contracts';
import type { RequestFacts } from './action-events.ts';
import { forwardHttp } from './forward-http.ts';
import { forwardUpgrade } from './forward-upgrade.ts';
import { createFlight, govern, type Flight, type Verdict } from './govern.ts';
import { GatewayHeaders, ProblemTypes, problem, rawProblem, sendProblem, type GatewayAnswer } from './problem.ts';
import { proxyToken } from './proxy-auth.ts';
import { BodyAborted, NO_BODY, bodyDigest, prefixBuffer, readBodyPrefix, type BodyPrefix } from './read-body.ts';
import { createRuntime } from './runtime.ts';
import { hostHeader, parseAbsoluteTarget, parseAuthority, parseConnectTarget } from './target.ts';
import { relayTunnel } from './tunnel.ts';
import type { Identity, ProxyServerOptions, Route, Target } from './types.ts';

/** A running forward proxy. */
export interface ProxyServer {
  /** Starts listening; resolves with the bound address. */
  listen(port?: number, host?: string): Promise<{ address: string; port: number }>;
  /** `http://host:port` once listening. */
  readonly url: string;
  /** The CA certificate agents must trust for intercepted hosts. */
  readonly caCertPem: string;
  /**
   * Applies the current kill-switch state to everything in flight: requests, CONNECT tunnels and
   * WebSockets in scope are cut. Returns how many were cut. New requests are checked anyway.
   */
  enforceKillSwitch(): number;
  /** Live counts, for readiness and metrics. */
  stats(): { inFlight: number; tunnels: number; certificates: number };
  /** Stops accepting, lets in-flight requests finish for `graceMs` (default 10 s), then closes everything. */
  close(options?: { graceMs?: number }): Promise<void>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Conn {
  id: string;
  intercepted: boolean;
  scheme: 'http' | 'https';
  token: string | null;
  target: { host: string; port: number } | null;
}

type Prepared =
  | { ok: true; target: Target; pathAndQuery: string; identity: Identity; route: Route | null }
  | { ok: false; answer: GatewayAnswer };

const bad = (detail: string): GatewayAnswer => ({ problem: problem(ProblemTypes.badRequest, 400, 'Bad request', detail) });
const proxyAuth = (detail: string): GatewayAnswer => ({
  problem: problem(ProblemTypes.proxyAuth, 407, 'Proxy authentication required', detail),
  headers: { 'proxy-authenticate': 'Basic realm="tameflare"' },
});
const unavailable = (detail: string): GatewayAnswer => ({ problem: problem(ProblemTypes.unavailable, 503, 'Gateway unavailable', detail) });

/**
 * Creates the governed forward proxy: absolute-form HTTP and CONNECT (TLS interception with the
 * local CA, or a plain tunnel where the route says so), WebSocket upgrades, every request
 * governed by the pipeline steps in `options` before anything reaches an upstream.
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const rt = createRuntime(options);
  const conns = new WeakMap<Duplex, Conn>();
  const tunnels = new Set<Socket>();
  let seq = 0;
  const newConn = (intercepted: boolean, scheme: 'http' | 'https', token: string | null, target: Conn['target']): Conn => ({
    id: `c${(++seq).toString(36)}`,
    intercepted,
    scheme,
    token,
    target,
  });

  /** Every answer of the gateway names the replica that gave it (and closes when asked to). */
  const withIngress = (a: GatewayAnswer, close: boolean): GatewayAnswer => ({
    ...a,
    headers: { ...a.headers, [GatewayHeaders.ingress]: options.ingressId, ...(close ? { connection: 'close' } : {}) },
  });

  const serverOptions = {
    maxHeaderSize: rt.l.maxHeaderBytes,
    requestTimeout: 0,
    headersTimeout: rt.t.clientHeadersMs,
    keepAliveTimeout: rt.t.clientKeepAliveMs,
    noDelay: true,
    requireHostHeader: true,
  };
  const outer: Server = createServer(serverOptions);
  const inner: Server = createServer(serverOptions);

  async function authenticate(token: string | null): Promise<Identity | null | 'error'> {
    if (!token) return null;
    try {
      return await options.authenticate(token);
    } catch (err) {
      rt.log.error({ err }, 'run token lookup failed');
      return 'error';
    }
  }

  /** Target, identity and route of a request; an answer instead when any of them is wrong. */
  async function prepare(req: IncomingMessage, conn: Conn, websocket: boolean): Promise<Prepared> {
    let target: Target;
    let pathAndQuery: string;
    const url = req.url ?? '';
    if (!conn.intercepted) {
      const t = parseAbsoluteTarget(url);
      if (!t) return { ok: false, answer: bad('This is a proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port.') };
      const scheme = websocket ? (t.scheme === 'https' ? 'wss' : 'ws') : t.scheme;
      target = { scheme, host: t.host, port: t.port };
      pathAndQuery = t.pathAndQuery;
    } else {
      if (url[0] !== '/') return { ok: false, answer: bad('Requests inside a CONNECT tunnel must use origin-form targets (/path).') };
      const hostH = req.headers.host ?? '';
      const h = parseAuthority(hostH, conn.scheme === 'https' ? 443 : 80);
      if (!h || h.host !== conn.target!.host || h.port !== conn.target!.port) {
        return {
          ok: false,
          answer: {
            problem: problem(ProblemTypes.misdirected, 421, 'Misdirected request', `The Host header does not match the CONNECT target ${conn.target!.host}:${conn.target!.port}.`),
          },
        };
      }
      const scheme = websocket ? (conn.scheme === 'https' ? 'wss' : 'ws') : conn.scheme;
      target = { scheme, host: conn.target!.host, port: conn.target!.port };
      pathAndQuery = url;
    }
    const token = conn.intercepted ? conn.token : proxyToken(req.headers['proxy-authorization']);
    const identity = await authenticate(token);
    if (identity === 'error') return { ok: false, answer: unavailable('The run token could not be checked right now.') };
    if (!identity) {
      return { ok: false, answer: proxyAuth(token ? 'The run token is not valid (the run may have ended).' : 'Send the run token in Proxy-Authorization (tf run sets it).') };
    }
    const why = options.available?.() ?? null;
    if (why) return { ok: false, answer: unavailable(`${why}. Nothing is forwarded until it is back.`) };
    let route: Route | null;
    try {
      route = options.route(target, identity);
    } catch (err) {
      rt.log.error({ err, host: target.host }, 'route lookup failed');
      return { ok: false, answer: unavailable('The destination could not be looked up.') };
    }
    return { ok: true, target, pathAndQuery, identity, route };
  }

  function factsOf(req: IncomingMessage, target: Target, pathAndQuery: string, prefix: BodyPrefix): RequestFacts {
    const cl = req.headers['content-length'];
    return {
      method: req.method!,
      target,
      pathAndQuery,
      contentType: req.headers['content-type'] ?? null,
      contentLength: cl === undefined ? null : Number(cl),
      bodyDigest: bodyDigest(prefix),
      bodyTruncated: prefix.hasBody && !prefix.ended,
      userAgent: req.headers['user-agent'] ?? null,
    };
  }

  function urlOf(target: Target, pathAndQuery: string): URL {
    const scheme = target.scheme === 'wss' ? 'https' : target.scheme === 'ws' ? 'http' : target.scheme;
    return new URL(`${scheme}://${hostHeader(target.host, target.port, scheme)}${pathAndQuery}`);
  }

  function answered(verdict: Extract<Verdict, { kind: 'answer' }>, flight: Flight): void {
    rt.active.delete(flight);
    verdict.run?.finish(verdict.outcome, { status: verdict.outcome === 'client_aborted' ? null : verdict.answer.problem.status });
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const conn = conns.get(req.socket) ?? newConn(false, 'http', null, null);
    const started = performance.now();
    const requestId = uuidv7();
    const reply = (a: GatewayAnswer, close = false) => {
      sendProblem(res, withIngress(a, close), requestId);
    };
    if (!METHODS.has(req.method!)) return reply(bad(`Method ${req.method} is not supported through the gateway.`), true);
    const p = await prepare(req, conn, false);
    if (!p.ok) return reply(p.answer, req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
    const cl = req.headers['content-length'];
    if (cl !== undefined && Number(cl) > rt.l.maxRequestBodyBytes) {
      return reply(
        { problem: problem(ProblemTypes.payloadTooLarge, 413, 'Request body too large', `The body is larger than ${rt.l.maxRequestBodyBytes} bytes.`) },
        true,
      );
    }
    let prefix: BodyPrefix;
    try {
      prefix = await readBodyPrefix(req, rt.l.parseBodyBytes);
    } catch (err) {
      if (err instanceof BodyAborted) return;
      throw err;
    }
    const flight = createFlight(rt, p.identity, p.route?.connector ?? null);
    res.once('close', () => {
      if (!res.writableFinished) flight.abort.abort(new Error('the agent went away'));
    });
    const verdict = await govern(rt, {
      identity: p.identity,
      target: p.target,
      route: p.route,
      method: req.method!,
      url: urlOf(p.target, p.pathAndQuery),
      facts: factsOf(req, p.target, p.pathAndQuery, prefix),
      headers: req.headers,
      body: prefixBuffer(prefix),
      connectionId: conn.id,
      actionId: requestId,
      started,
      flight,
    });
    if (verdict.kind === 'answer') {
      if (!res.destroyed) reply(verdict.answer, !prefix.ended);
      answered(verdict, flight);
      return;
    }
    if (res.destroyed) {
      rt.active.delete(flight);
      verdict.run.finish('client_aborted', {});
      return;
    }
    forwardHttp(rt, {
      req,
      res,
      target: p.target,
      pathAndQuery: p.pathAndQuery,
      route: p.route,
      prefix,
      run: verdict.run,
      credential: verdict.credential,
      override: verdict.override,
      flight,
      requestId,
    });
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const conn = conns.get(socket) ?? conns.get(req.socket) ?? newConn(false, 'http', null, null);
    const started = performance.now();
    const requestId = uuidv7();
    const reply = (a: GatewayAnswer) => {
      if (socket.writable) socket.end(rawProblem(withIngress(a, false), { close: true, requestId }));
      else socket.destroy();
    };
    if (req.method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return reply(bad('Only WebSocket upgrades (GET with Upgrade: websocket) are supported.'));
    }
    const p = await prepare(req, conn, true);
    if (!p.ok) return reply(p.answer);
    const flight = createFlight(rt, p.identity, p.route?.connector ?? null);
    socket.once('close', () => flight.abort.abort(new Error('the agent went away')));
    const verdict = await govern(rt, {
      identity: p.identity,
      target: p.target,
      route: p.route,
      method: 'GET',
      url: urlOf(p.target, p.pathAndQuery),
      facts: factsOf(req, p.target, p.pathAndQuery, NO_BODY),
      headers: req.headers,
      body: null,
      connectionId: conn.id,
      actionId: requestId,
      started,
      flight,
    });
    if (verdict.kind === 'answer') {
      reply(verdict.answer);
      answered(verdict, flight);
      return;
    }
    forwardUpgrade(rt, {
      req,
      socket,
      head,
      target: p.target,
      pathAndQuery: p.pathAndQuery,
      route: p.route,
      run: verdict.run,
      credential: verdict.credential,
      override: verdict.override,
      flight,
      requestId,
    });
  }

  async function handleConnect(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const requestId = uuidv7();
    const reply = (a: GatewayAnswer) => {
      if (socket.writable) socket.end(rawProblem(withIngress(a, false), { close: true, requestId }));
      else socket.destroy();
    };
    const t = parseConnectTarget(req.url ?? '');
    if (!t) return reply(bad('CONNECT needs a host:port target.'));
    const token = proxyToken(req.headers['proxy-authorization']);
    const identity = await authenticate(token);
    if (identity === 'error') return reply(unavailable('The run token could not be checked right now.'));
    if (!identity) return reply(proxyAuth(token ? 'The run token is not valid (the run may have ended).' : 'Send the run token in Proxy-Authorization (tf run sets it).'));
    const why = options.available?.() ?? null;
    if (why) return reply(unavailable(`${why}. Nothing is forwarded until it is back.`));
    if (tunnels.size >= rt.l.maxTunnels) return reply(unavailable('Too many open tunnels on this gateway.'));
    let route: Route | null;
    try {
      route = options.route({ scheme: 'https', host: t.host, port: t.port }, identity);
    } catch (err) {
      rt.log.error({ err, host: t.host }, 'route lookup failed');
      return reply(unavailable('The destination could not be looked up.'));
    }
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    if (route && !route.intercept) return tunnelConnect(req, socket, head, t, identity, route, requestId, reply);

    // Intercept: answer 200, then terminate TLS with a leaf for the CONNECT host so that every
    // request inside is governed and a denial is a real 403 (not a refused CONNECT that SDKs retry).
    const conn = newConn(true, 'https', token, t);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const start = (first: Buffer) => {
      socket.pause();
      if (first[0] !== 0x16) {
        // Plain HTTP inside CONNECT (ws:// and http:// through clients that always tunnel). The
        // HTTP parser reads the native handle directly, so the bytes already read are handed to it.
        conn.scheme = 'http';
        conns.set(socket, conn);
        inner.emit('connection', socket);
        socket.emit('data', first);
        socket.resume();
        return;
      }
      // TLSSocket replays bytes still buffered on the socket before reading from its handle.
      socket.unshift(first);
      const wrap = (ctx: import('node:tls').SecureContext) => {
        const tls = new TLSSocket(socket, { isServer: true, secureContext: ctx, ALPNProtocols: ['http/1.1'] });
        const timer = setTimeout(() => tls.destroy(), rt.t.clientTlsHandshakeMs);
        tls.on('error', (err) => {
          rt.log.debug({ err: err.message, host: t.host }, 'TLS with the agent failed');
          tls.destroy();
        });
        tls.once('secure', () => {
          clearTimeout(timer);
          const sni = tls.servername;
          if (sni && sni.toLowerCase().replace(/\.$/, '') !== t.host) {
            rt.log.warn({ sni, host: t.host }, 'SNI does not match the CONNECT target; closing');
            tls.destroy();
            return;
          }
          conns.set(tls, conn);
          inner.emit('connection', tls);
        });
      };
      const cached = rt.certificates.peek(t.host);
      if (cached) wrap(cached);
      else
        rt.certificates.get(t.host).then(wrap, (err) => {
          rt.log.error({ err, host: t.host }, 'cannot issue a certificate');
          socket.destroy();
        });
    };
    if (head.length) start(head);
    else {
      // An agent that opens a tunnel and says nothing does not keep it forever.
      const idle = setTimeout(() => socket.destroy(), rt.t.clientTlsHandshakeMs);
      socket.once('data', (first: Buffer) => {
        clearTimeout(idle);
        start(first);
      });
      socket.once('close', () => clearTimeout(idle));
    }
  }

  async function tunnelConnect(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    t: { host: string; port: number },
    identity: Identity,
    route: Route,
    requestId: string,
    reply: (a: GatewayAnswer) => void,
  ): Promise<void> {
    const target: Target = { scheme: 'https', host: t.host, port: t.port };
    const flight = createFlight(rt, identity, route.connector);
    socket.once('close', () => flight.abort.abort(new Error('the agent went away')));
    const verdict = await govern(rt, {
      identity,
      target,
      route,
      method: 'CONNECT',
      url: urlOf(target, '/'),
      facts: factsOf(req, target, '', NO_BODY),
      headers: req.headers,
      body: null,
      connectionId: `t${(++seq).toString(36)}`,
      actionId: requestId,
      started: performance.now(),
      flight,
    });
    if (verdict.kind === 'answer') {
      reply(verdict.answer);
      answered(verdict, flight);
      return;
    }
    relayTunnel(rt, { client: socket, head, target, override: verdict.override, run: verdict.run, flight, requestId });
  }

  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT';
    const detail =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? `The request headers are larger than ${rt.l.maxHeaderBytes} bytes.`
        : `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}).`;
    const a: GatewayAnswer = timeout
      ? { problem: problem(ProblemTypes.badRequest, 408, 'Request timeout', 'The request headers did not arrive in time.') }
      : bad(detail);
    socket.end(rawProblem(a, { close: true }));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res).catch((err: unknown) => {
      rt.log.error({ err }, 'request handler failed');
      if (!res.headersSent) sendProblem(res, unavailable('The gateway failed while handling this request.'));
      else res.destroy();
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(req, socket, head).catch((err: unknown) => {
      rt.log.error({ err }, 'upgrade handler failed');
      socket.destroy();
    });
  };
  outer.on('request', onRequest);
  outer.on('upgrade', onUpgrade);
  outer.on('clientError', onClientError);
  outer.on('connection', (socket: Socket) => conns.set(socket, newConn(false, 'http', null, null)));
  outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleConnect(req, socket, head).catch((err: unknown) => {
      rt.log.error({ err }, 'CONNECT handler failed');
      socket.destroy();
    });
  });
  inner.on('request', onRequest);
  inner.on('upgrade', onUpgrade);
  inner.on('clientError', onClientError);
  // A CONNECT inside an intercepted tunnel is not supported.
  inner.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.end(rawProblem(bad('CONNECT inside a tunnel is not supported.'), { close: true }));
  });

  let url = '';
  return {
    async listen(port = 0, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        outer.once('error', reject);
        outer.listen(port, host, () => {
          outer.off('error', reject);
          resolve();
        });
      });
      const a = outer.address() as AddressInfo;
      rt.listening = { address: a.address, port: a.port };
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      return { address: a.address, port: a.port };
    },
    get url() {
      return url;
    },
    caCertPem: options.ca.certPem,
    enforceKillSwitch() {
      let cut = 0;
      for (const c of [...rt.active]) {
        const entry = options.killSwitch.match(c.subject);
        if (entry && c.cut(entry)) cut++;
      }
      return cut;
    },
    stats: () => ({ inFlight: rt.active.size, tunnels: tunnels.size, certificates: rt.certificates.size }),
    async close(o = {}) {
      const grace = o.graceMs ?? 10_000;
      const closed = new Promise<void>((r) => outer.close(() => r()));
      outer.closeIdleConnections();
      inner.closeIdleConnections();
      const deadline = Date.now() + grace;
      while (rt.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of tunnels) s.destroy();
      outer.closeAllConnections();
      inner.closeAllConnections();
      await closed;
      await Promise.all([rt.upstream.close(), rt.overrideUpstream.close()]).catch(() => undefined);
    },
  };
}

export { GatewayHeaders };
