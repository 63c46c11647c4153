import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { createUpstreamTls, startHttpUpstream, startHttpsUpstream, type TestUpstream } from './test/upstream.ts';

const run = promisify(execFile);

// Live memory (after a collection), not RSS: buffers already forwarded are garbage, not held.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const live = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('streaming through the proxy', () => {
  let gw: TestGateway;
  let http: TestUpstream;
  let https: TestUpstream;
  let dir: string;
  let disposeTls: () => void;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-stream-'));
    const tls = await createUpstreamTls(['llm.example.test']);
    disposeTls = tls.dispose;
    http = await startHttpUpstream();
    https = await startHttpsUpstream(tls);
    gw = await startTestGateway({
      hosts: ['llm.example.test'],
      rules: [() => 'allow'],
      upstreamOverrides: { 'llm.example.test:80': http.origin, 'llm.example.test:443': https.origin },
      upstreamCa: [tls.ca.certPem],
    });
    writeFileSync(join(dir, 'ca.pem'), gw.ca.certPem);
  });
  afterAll(async () => {
    await gw?.close();
    await http?.close();
    await https?.close();
    disposeTls?.();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const scheme of ['http', 'https'] as const) {
    it(`delivers the first server-sent event before the upstream has finished (undici, ${scheme})`, async () => {
      const up = scheme === 'http' ? http : https;
      up.sse.finishedAt = null;
      const agent = new ProxyAgent({ uri: gw.proxyUrl, requestTls: { ca: gw.ca.certPem } });
      try {
        const r = await request(`${scheme}://llm.example.test/sse`, { method: 'POST', body: '{"stream":true}', dispatcher: agent });
        expect(r.statusCode).toBe(200);
        expect(r.headers['content-type']).toBe('text/event-stream');
        const it = r.body[Symbol.asyncIterator]();
        const first = await it.next();
        expect(Buffer.from(first.value as Buffer).toString()).toBe('data: first\n\n');
        // The upstream holds the rest until the agent has seen the first event: a buffering proxy never gets here.
        expect(up.sse.finishedAt).toBeNull();
        up.sse.release!();
        let rest = '';
        for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
        expect(rest).toBe('data: second\n\ndata: [DONE]\n\n');
      } finally {
        await agent.close();
      }
    });
  }

  it('delivers the first event incrementally to Python requests with stream=True (https)', async () => {
    https.sse.finishedAt = null;
    const script = [
      'import sys, requests',
      'r = requests.post("https://llm.example.test/sse", data="{}", stream=True, timeout=30)',
      'for line in r.iter_lines():',
      '    if line:',
      '        print(line.decode(), flush=True)',
    ].join('\n');
    const child = spawn('/usr/bin/python3', ['-c', script], {
      env: { PATH: process.env.PATH, HTTPS_PROXY: gw.proxyUrl, https_proxy: gw.proxyUrl, REQUESTS_CA_BUNDLE: join(dir, 'ca.pem'), NO_PROXY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for await (const line of rl) {
      lines.push(line);
      if (lines.length === 1) {
        expect(line).toBe('data: first');
        expect(https.sse.finishedAt).toBeNull();
        https.sse.release!();
      }
    }
    expect(await exited, stderr).toBe(0);
    expect(lines).toEqual(['data: first', 'data: second', 'data: [DONE]']);
  });

  it('streams a 100 MB upload to the upstream with bounded memory', async () => {
    const file = join(dir, 'upload.bin');
    const hash = createHash('sha256');
    const out = createWriteStream(file);
    for (let i = 0; i < 100; i++) {
      const chunk = randomBytes(1024 * 1024);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const expected = hash.digest('hex');

    const baseline = live();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, live())), 100);
    const before = https.captured.length;
    try {
      const r = await run(
        'curl',
        ['-sS', '--proxy', gw.proxyUrl, '--cacert', join(dir, 'ca.pem'), '-T', file, '-H', 'content-type: application/octet-stream', 'https://llm.example.test/files'],
        { maxBuffer: 1024 * 1024 },
      );
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, method: 'PUT', bodyLength: 100 * 1024 * 1024, bodySha256: expected });
    } finally {
      clearInterval(sampler);
    }
    const seen = https.captured.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.bodySha256).toBe(expected);
    // Proxy and upstream share this process: 100 MB went through it; a small window was ever held.
    expect(peak - baseline).toBeLessThan(48 * 1024 * 1024);
    await gw.settled();
    const completed = gw.events.filter((e) => e.type === 'ActionCompleted').pop()!.data as { bytesIn: number; outcome: string };
    expect(completed).toMatchObject({ outcome: 'completed', bytesIn: 100 * 1024 * 1024 });
  }, 120_000);
});
