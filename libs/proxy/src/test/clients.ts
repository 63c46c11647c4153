/**
 * Real HTTP clients, driven through the proxy the way `tf run` configures them: curl, Node's
 * built-in fetch with NODE_USE_ENV_PROXY, npm undici with a ProxyAgent, Python urllib and Python
 * requests (Debian's, under /usr/bin/python3). Each returns status, headers and body bytes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ProxyAgent, request as undiciRequest } from 'undici';

export interface ClientRequest {
  method: string;
  url: string;
  body?: Buffer;
  headers?: Record<string, string>;
}

export interface ClientResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ClientEnv {
  /** `http://tf:<token>@127.0.0.1:<port>` */
  proxyUrl: string;
  /** PEM of the gateway CA (and any other roots the client must trust). */
  caPem: string;
}

export type ClientName = 'curl' | 'node-fetch' | 'undici' | 'python-urllib' | 'python-requests';
export const CLIENTS: ClientName[] = ['curl', 'node-fetch', 'undici', 'python-urllib', 'python-requests'];

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function proxyEnv(env: ClientEnv, caFile: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HTTP_PROXY: env.proxyUrl,
    HTTPS_PROXY: env.proxyUrl,
    http_proxy: env.proxyUrl,
    https_proxy: env.proxyUrl,
    NO_PROXY: '',
    no_proxy: '',
    SSL_CERT_FILE: caFile,
    REQUESTS_CA_BUNDLE: caFile,
    CURL_CA_BUNDLE: caFile,
    NODE_EXTRA_CA_CERTS: caFile,
    NODE_USE_ENV_PROXY: '1',
  };
}

function parseJsonResult(stdout: string): ClientResponse {
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { status: number; headers: Record<string, string>; body: string };
  return { status: r.status, headers: r.headers, body: Buffer.from(r.body, 'base64') };
}

const PY_URLLIB = `
import base64, json, sys, urllib.request, urllib.error
spec = json.loads(sys.stdin.read())
body = open(spec["bodyFile"], "rb").read() if spec.get("bodyFile") else None
req = urllib.request.Request(spec["url"], data=body, method=spec["method"], headers=spec.get("headers") or {})
try:
    r = urllib.request.urlopen(req, timeout=60)
    status, headers, data = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    status, headers, data = e.code, e.headers, e.read()
h = {}
for k, v in headers.items():
    k = k.lower()
    h[k] = h[k] + ", " + v if k in h else v
print(json.dumps({"status": status, "headers": h, "body": base64.b64encode(data).decode()}))
`;

const PY_REQUESTS = `
import base64, json, sys, requests
spec = json.loads(sys.stdin.read())
body = open(spec["bodyFile"], "rb") if spec.get("bodyFile") else None
r = requests.request(spec["method"], spec["url"], data=body, headers=spec.get("headers") or {}, timeout=60)
print(json.dumps({"status": r.status_code, "headers": {k.lower(): v for k, v in r.headers.items()}, "body": base64.b64encode(r.content).decode()}))
`;

const NODE_FETCH = `
const fs = require('node:fs');
const spec = JSON.parse(fs.readFileSync(0, 'utf8'));
const body = spec.bodyFile ? fs.readFileSync(spec.bodyFile) : undefined;
fetch(spec.url, { method: spec.method, body, headers: spec.headers ?? {} }).then(async (r) => {
  const buf = Buffer.from(await r.arrayBuffer());
  const headers = {};
  r.headers.forEach((v, k) => { headers[k] = v; });
  console.log(JSON.stringify({ status: r.status, headers, body: buf.toString('base64') }));
}, (e) => { console.error(e, e.cause); process.exit(3); });
`;

/** Sends one request with `client` through the proxy described by `env`. */
export async function sendWith(client: ClientName, env: ClientEnv, req: ClientRequest): Promise<ClientResponse> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-client-'));
  try {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, env.caPem);
    let bodyFile: string | undefined;
    if (req.body) {
      bodyFile = join(dir, 'body.bin');
      writeFileSync(bodyFile, req.body);
    }
    const spec = JSON.stringify({ method: req.method, url: req.url, headers: req.headers ?? {}, bodyFile });
    const penv = proxyEnv(env, caFile);
    switch (client) {
      case 'curl': {
        const out = join(dir, 'out.bin');
        const hdr = join(dir, 'headers.txt');
        const args = ['-sS', '--proxy', env.proxyUrl, '--cacert', caFile, '-X', req.method, '-o', out, '-D', hdr, '-w', '%{http_code}'];
        for (const [k, v] of Object.entries(req.headers ?? {})) args.push('-H', `${k}: ${v}`);
        if (bodyFile) args.push('--data-binary', `@${bodyFile}`);
        args.push(req.url);
        const r = await exec('curl', args, penv);
        const headers: Record<string, string> = {};
        // Only the last response's headers (a CONNECT 200 comes first).
        const blocks = readFileSync(hdr, 'latin1').trim().split(/\r?\n\r?\n/);
        for (const line of blocks[blocks.length - 1]!.split(/\r?\n/).slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) {
            const k = line.slice(0, i).trim().toLowerCase();
            const v = line.slice(i + 1).trim();
            headers[k] = headers[k] ? `${headers[k]}, ${v}` : v;
          }
        }
        return { status: Number(r.stdout), headers, body: readFileSync(out) };
      }
      case 'node-fetch':
        return parseJsonResult((await exec(process.execPath, ['-e', NODE_FETCH], penv, spec)).stdout);
      case 'python-urllib':
        return parseJsonResult((await exec('/usr/bin/python3', ['-c', PY_URLLIB], penv, spec)).stdout);
      case 'python-requests':
        return parseJsonResult((await exec('/usr/bin/python3', ['-c', PY_REQUESTS], penv, spec)).stdout);
      case 'undici': {
        const agent = new ProxyAgent({ uri: env.proxyUrl, requestTls: { ca: env.caPem } });
        try {
          const r = await undiciRequest(req.url, { method: req.method, body: req.body ?? null, headers: req.headers ?? {}, dispatcher: agent });
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(r.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
          return { status: r.statusCode, headers, body: Buffer.from(await r.body.arrayBuffer()) };
        } finally {
          await agent.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Opens a CONNECT tunnel through the proxy by hand and, with `tls`, starts TLS inside it: what a
 * WebSocket client or a raw-socket test uses. Rejects with the proxy's answer when it is not 200.
 */
export function openTunnel(
  proxyUrl: string,
  host: string,
  port: number,
  tls?: { ca: string; servername?: string },
): Promise<import('node:stream').Duplex & { connectResponse: string }> {
  const u = new URL(proxyUrl);
  const auth = u.username ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}\r\n` : '';
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const s = netConnect(Number(u.port), u.hostname, () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`));
    s.once('error', reject);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      const status = head.slice(0, end);
      if (!status.startsWith('HTTP/1.1 200')) {
        s.once('end', () => reject(Object.assign(new Error(`CONNECT refused: ${status.split('\r\n')[0]}`), { response: head })));
        s.on('data', (x: Buffer) => (head += x.toString('latin1')));
        s.resume();
        return;
      }
      // Nothing arrives until the client speaks, so the socket can be handed over still flowing.
      if (!tls) return resolve(Object.assign(s, { connectResponse: status }));
      s.pause();
      const t = tlsConnect({ socket: s, servername: tls.servername ?? host, ca: tls.ca }, () => resolve(Object.assign(t, { connectResponse: status })));
      t.once('error', reject);
    };
    s.on('data', onData);
  });
}
