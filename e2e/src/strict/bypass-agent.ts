/**
 * An agent that tries to reach an API without the gateway, then through it. One JSON line per
 * attempt on stdout:
 *
 *   node bypass-agent.ts [--raw host:port] [--unroutable host:port] [--dns name] [--proxy url] [--exit n]
 *
 * --raw: TLS straight to the address, ignoring every proxy variable, and `GET /bypass`;
 * --unroutable: a TCP connect to an address no test host has; --dns: a name lookup;
 * --proxy: fetch(url) as an ordinary client does (Node 24 honours the proxy variables tf run sets).
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { raw: { type: 'string' }, unroutable: { type: 'string' }, dns: { type: 'string' }, proxy: { type: 'string' }, exit: { type: 'string' } } });
const say = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const hostPort = (s: string) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

function rawRequest(target: string): Promise<Record<string, unknown>> {
  const { host, port } = hostPort(target);
  return new Promise((resolve) => {
    // The worst-behaved client: it ignores the proxy variables and the trust store alike. Strict
    // mode must stop it at the network, not by its certificate checks.
    const s = tlsConnect({ host, port, servername: 'api.github.com', rejectUnauthorized: false, timeout: 5000 }, () => {
      s.write('GET /bypass HTTP/1.1\r\nHost: api.github.com\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('end', () => resolve({ ok: true, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0) }));
    s.on('timeout', () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
  });
}

function tcpConnect(target: string): Promise<Record<string, unknown>> {
  const { host, port } = hostPort(target);
  return new Promise((resolve) => {
    const s = netConnect({ host, port, timeout: 3000 }, () => {
      s.destroy();
      resolve({ ok: true });
    });
    s.on('timeout', () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
  });
}

if (values.raw) say({ attempt: 'raw', target: values.raw, ...(await rawRequest(values.raw)) });
if (values.unroutable) say({ attempt: 'unroutable', target: values.unroutable, ...(await tcpConnect(values.unroutable)) });
if (values.dns) {
  try {
    const a = await lookup(values.dns);
    say({ attempt: 'dns', name: values.dns, ok: true, address: a.address });
  } catch (err) {
    say({ attempt: 'dns', name: values.dns, ok: false, code: (err as NodeJS.ErrnoException).code });
  }
}
if (values.proxy) {
  // As the SDKs do: a 503 (the gateway failing closed, e.g. on a loaded machine) is retried.
  const failures: string[] = [];
  for (let tries = 1; ; tries++) {
    try {
      const r = await fetch(values.proxy, { signal: AbortSignal.timeout(15_000) });
      const body = (await r.text()).slice(0, 300);
      if (r.status === 503 && tries < 5) {
        failures.push(body);
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      say({ attempt: 'proxy', url: values.proxy, ok: true, status: r.status, tries, failures, body });
    } catch (err) {
      say({ attempt: 'proxy', url: values.proxy, ok: false, tries, code: String((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message) });
    }
    break;
  }
}
process.exit(Number(values.exit ?? 0));
