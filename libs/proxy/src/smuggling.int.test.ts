import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN, startTestGateway, type TestGateway } from './test/kit.ts';

/** A raw TCP upstream that logs every byte it receives and answers each request head with 200. */
async function startRawUpstream() {
  const log: Buffer[] = [];
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    let buf = '';
    s.on('data', (d: Buffer) => {
      log.push(d);
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }
    });
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    get bytes() {
      return Buffer.concat(log).toString('latin1');
    },
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Writes `raw`, then collects the answer until the proxy closes the connection or `ms` pass. */
function exchange(open: () => Promise<Duplex>, raw: string, ms = 1500): Promise<{ response: string; closed: boolean }> {
  return open().then(
    (s) =>
      new Promise((resolve) => {
        let response = '';
        let closed = false;
        const t = setTimeout(() => {
          s.destroy();
          resolve({ response, closed });
        }, ms);
        s.on('data', (d: Buffer) => (response += d.toString('latin1')));
        s.on('error', () => undefined);
        s.on('close', () => {
          closed = true;
          clearTimeout(t);
          resolve({ response, closed });
        });
        s.write(Buffer.from(raw, 'latin1'));
      }),
  );
}

const auth = `Proxy-Authorization: Basic ${Buffer.from(`tf:${TEST_TOKEN}`).toString('base64')}\r\n`;
const H = 'api.example.test';

/** Malformed and smuggling shapes; `T` is the request target, `A` the auth line (empty inside a tunnel). */
const corpus: [string, (T: string, A: string) => string][] = [
  ['CL.TE', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`],
  ['TE.CL', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`],
  ['TE.TE duplicate with identity', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`],
  ['TE.TE xchunked', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
  ['TE.TE chunked, identity', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
  ['TE.TE space before colon', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`],
  ['TE.TE vertical tab', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`],
  ['duplicate Content-Length', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
  ['Content-Length list', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Content-Length: 5, 6\r\n\r\nhello!`],
  ['signed Content-Length', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Content-Length: +5\r\n\r\nhello`],
  ['obs-fold', (T, A) => `GET ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}X-Folded: a\r\n  b\r\n\r\n`],
  ['oversized headers', (T, A) => `GET ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['bare LF line endings', (T, A) => `GET ${T} HTTP/1.1\nHost: ${H}\n${A.replace('\r\n', '\n')}\n`],
  ['CR inside a header value', (T, A) => `GET ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}X-Bad: a\rb\r\n\r\n`],
  ['NUL inside a header value', (T, A) => `GET ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}X-Bad: a\x00b\r\n\r\n`],
  ['missing Host', (T, A) => `GET ${T} HTTP/1.1\r\n${A}\r\n`],
  ['chunk size overflow', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nx\r\n0\r\n\r\n`],
  ['invalid chunk size', (T, A) => `POST ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n`],
  ['space in request target', (T, A) => `GET ${T}a b HTTP/1.1\r\nHost: ${H}\r\n${A}\r\n`],
  ['invalid method token', (T, A) => `G(T ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}\r\n`],
  ['HTTP/1.1 with h2c upgrade', (T, A) => `GET ${T} HTTP/1.1\r\nHost: ${H}\r\n${A}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`],
];

const badConnects = [
  'CONNECT api.example.test HTTP/1.1', // no port
  'CONNECT :443 HTTP/1.1',
  'CONNECT api.example.test:0 HTTP/1.1',
  'CONNECT api.example.test:99999 HTTP/1.1',
  'CONNECT api.example.test:44a HTTP/1.1',
  'CONNECT user@api.example.test:443 HTTP/1.1',
  'CONNECT http://api.example.test:443/ HTTP/1.1',
  'CONNECT api.example.test:443/path HTTP/1.1',
  'CONNECT [::1 HTTP/1.1',
  'CONNECT ::1:443 HTTP/1.1',
  'CONNECT api..example.test:443 HTTP/1.1',
  'CONNECT -bad.test:443 HTTP/1.1',
];

describe('malformed and smuggling requests', () => {
  let gw: TestGateway;
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>;
  const openPlain = () =>
    new Promise<Duplex>((resolve) => {
      const s = netConnect(Number(new URL(gw.url).port), '127.0.0.1', () => resolve(s));
    });
  const openTunnel = () =>
    new Promise<Duplex>((resolve, reject) => {
      const s: Socket = netConnect(Number(new URL(gw.url).port), '127.0.0.1', () => s.write(`CONNECT ${H}:443 HTTP/1.1\r\nHost: ${H}:443\r\n${auth}\r\n`));
      s.once('data', (d: Buffer) => {
        if (!d.toString().startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT failed: ${d.toString()}`));
        const tls = tlsConnect({ socket: s, servername: H, ca: gw.ca.certPem }, () => resolve(tls));
        tls.on('error', reject);
      });
    });

  beforeAll(async () => {
    upstream = await startRawUpstream();
    gw = await startTestGateway({
      hosts: [H],
      rules: [() => 'allow'],
      upstreamOverrides: { [`${H}:80`]: `http://127.0.0.1:${upstream.port}`, [`${H}:443`]: `http://127.0.0.1:${upstream.port}` },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const expectRejected = (name: string, r: { response: string; closed: boolean }) => {
    const statusLine = r.response.split('\r\n')[0] ?? '';
    // A 400 and a closed connection, or a closed connection without an answer.
    if (r.response.length) expect(statusLine, name).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.closed, `${name}: connection closed`).toBe(true);
  };

  for (const [name, build] of corpus) {
    it(`plain absolute-form: ${name} gets 400 and reaches nothing`, async () => {
      expectRejected(name, await exchange(openPlain, build(`http://${H}/x`, auth)));
      expect(upstream.bytes).toBe('');
    });
    it(`inside an intercepted tunnel: ${name} gets 400 and reaches nothing`, async () => {
      expectRejected(name, await exchange(openTunnel, build('/x', '')));
      expect(upstream.bytes).toBe('');
    });
  }

  for (const line of badConnects) {
    it(`bad CONNECT target: ${line}`, async () => {
      expectRejected(line, await exchange(openPlain, `${line}\r\nHost: x\r\n${auth}\r\n`));
      expect(upstream.bytes).toBe('');
    });
  }

  it('rejects origin-form requests on the proxy port and CONNECT inside a tunnel', async () => {
    const r1 = await exchange(openPlain, `GET /x HTTP/1.1\r\nHost: ${H}\r\n${auth}\r\n`, 500);
    expect(r1.response).toMatch(/^HTTP\/1\.1 400 /);
    const r2 = await exchange(openTunnel, `CONNECT other.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n`);
    expectRejected('nested CONNECT', r2);
    expect(upstream.bytes).toBe('');
  });

  it('keeps serving: a valid request afterwards reaches the upstream exactly once', async () => {
    const r = await exchange(openPlain, `GET http://${H}/after HTTP/1.1\r\nHost: ${H}\r\n${auth}Connection: close\r\n\r\n`);
    expect(r.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.response.endsWith('ok')).toBe(true);
    const t = await exchange(openTunnel, `GET /after-tls HTTP/1.1\r\nHost: ${H}\r\nConnection: close\r\n\r\n`);
    expect(t.response).toMatch(/^HTTP\/1\.1 200 /);
    const heads = upstream.bytes.split('\r\n\r\n').filter(Boolean);
    expect(heads).toHaveLength(2);
    expect(heads[0]).toMatch(/^GET \/after HTTP\/1\.1\r\n/);
    expect(heads[1]).toMatch(/^GET \/after-tls HTTP\/1\.1\r\n/);
    expect(upstream.bytes).not.toMatch(/proxy-authorization/i);
    await gw.settled();
  });
});
