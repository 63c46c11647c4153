/**
 * Soak: ten minutes of mixed traffic through the whole stack as `tf up` runs it (allowed chat
 * completions and model lists with the credential injected, denied file deletions), at a steady
 * pace, sampling every 10 s the resident memory of every TameFlare process and nats-server, the
 * size of the event store and read models in PostgreSQL, and of the JetStream store on disk.
 * Reports memory at the start and the end, its trend over the second half (a leak keeps
 * growing after warm-up), and the storage each request costs. `--quick`: one minute.
 *
 * Not run in CI (`npm run bench soak`). The upstream is the ingress suite's helper role.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { emit, fmt, quick } from '../stats.ts';

const INGRESS_SUITE = join(import.meta.dirname, 'ingress.ts');
const POLICY = `
version: 1
name: bench-soak
rules:
  - id: allow-chat
    effect: allow
    match: { actions: ["openai.chat.**"] }
    reason: Chat is allowed
  - id: allow-reads
    effect: allow
    match: { actions: ["**"] }
    when: action.risk == "read"
    reason: Reading is allowed
`;

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function duBytes(path: string): number {
  try {
    return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : NaN;
}

async function main(): Promise<void> {
  const { loadOrCreateCa } = await import('@tameflare/proxy');
  const { createTestDatabase } = await import('@tameflare/testing');
  const { startStack, stopStack, connectAdmin, setSecret, configureConnector } = await import('@tameflare/stack');
  const { Commands } = await import('@tameflare/contracts');
  const pg = (await import('pg')).default;
  const { ProxyAgent, request } = await import('undici');

  const durationMs = quick ? 60_000 : 600_000;
  const sampleEveryMs = quick ? 5000 : 10_000;
  const workers = 8;
  const pauseMs = 25;
  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-soak-'));
  chmodSync(dir, 0o777);
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    const upCa = await loadOrCreateCa({ stateDir: join(dir, 'upstream-ca'), commonName: 'Bench upstream CA' });
    const leaf = await upCa.issueLeaf('api.openai.com');
    writeFileSync(join(dir, 'up.cert.pem'), leaf.certPem);
    writeFileSync(join(dir, 'up.key.pem'), leaf.keyPem);
    const upCaFile = join(dir, 'upstream-ca', 'ca.cert.pem');
    const upstream = spawn(process.execPath, [INGRESS_SUITE, '--role', 'upstream', JSON.stringify({ cert: join(dir, 'up.cert.pem'), key: join(dir, 'up.key.pem') })], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(upstream);
    const httpsPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      upstream.stdout!.on('data', (d) => {
        out += d;
        const m = /READY (\{.*\})/.exec(out);
        if (m) resolve((JSON.parse(m[1]!) as { https: number }).https);
      });
      upstream.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
    });

    const db = await createTestDatabase('bench_soak');
    cleanups.push(() => db.drop());
    const stateDir = join(dir, 'state');
    const up = await startStack({
      stateDir,
      databaseUrl: db.url,
      env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: `api.openai.com:443=https://127.0.0.1:${httpsPort}`, TF_INGRESS_UPSTREAM_CA_FILES: upCaFile } },
      actor: 'bench',
      logLevel: 'warn',
      readyTimeoutMs: 180_000,
    });
    cleanups.push(() => stopStack({ stateDir, graceMs: 5000 }).then(() => undefined));
    const { bus } = await connectAdmin(stateDir, { requestTimeoutMs: 30_000 });
    cleanups.push(() => bus.close());
    await setSecret(bus, { gatewayId: 'default', name: 'openai-key', value: `sk-soak-${Math.random().toString(36).slice(2)}`, actor: 'bench' });
    await configureConnector(bus, { gatewayId: 'default', connectorId: 'openai', kind: 'openai', secretName: 'openai-key', actor: 'bench' });
    await bus.request(Commands.policyPublish, { gatewayId: 'default', source: POLICY, fileName: 'soak.yaml', publishedBy: 'bench' }, { timeoutMs: 30_000 });
    const run = await bus.request<{ token: string; runId: string }>(Commands.runStart, { agentName: 'soak-agent', gatewayId: 'default', command: 'soak', hostname: 'bench', pid: process.pid, startedBy: 'bench' });
    const agent = new ProxyAgent({ uri: `http://tf:${run.token}@${up.info.proxies[0]!.url.replace(/^http:\/\//, '')}`, requestTls: { ca: readFileSync(up.info.caCertFile, 'utf8'), servername: 'api.openai.com' }, connections: workers });
    cleanups.push(() => agent.close());
    const procs = up.info.processes.map((p) => ({ id: p.instanceId, pid: p.pid }));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const storageBytes = async () => {
      const r = await client.query(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname IN ('tf_events', 'audit', 'audit_ops')`);
      return Number(r.rows[0].b);
    };

    const counts = { allowed: 0, denied: 0, other: 0, errors: 0 };
    const mix = [
      { method: 'POST', path: '/v1/chat/completions', body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise the incident report in two sentences.' }] }) },
      { method: 'POST', path: '/v1/chat/completions', body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Draft a reply to the customer.' }] }) },
      { method: 'GET', path: '/v1/models', body: undefined },
      { method: 'DELETE', path: '/v1/files/file-abc123', body: undefined },
    ];
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const m = mix[n++ % mix.length]!;
        try {
          const r = await request(`https://api.openai.com${m.path}`, { method: m.method, ...(m.body ? { body: m.body, headers: { 'content-type': 'application/json' } } : {}), dispatcher: agent });
          await r.body.text();
          if (r.statusCode === 200) counts.allowed++;
          else if (r.statusCode === 403) counts.denied++;
          else counts.other++;
        } catch {
          counts.errors++;
        }
        await new Promise((res) => setTimeout(res, pauseMs));
      }
    };
    const t0 = performance.now();
    const samples: { t: number; requests: number; rss: Record<string, number>; storage: number; jetstream: number }[] = [];
    const sample = async () => {
      samples.push({
        t: (performance.now() - t0) / 60_000,
        requests: counts.allowed + counts.denied + counts.other,
        rss: Object.fromEntries(procs.map((p) => [p.id, rssMb(p.pid)])),
        storage: await storageBytes(),
        jetstream: duBytes(join(stateDir, 'nats', 'jetstream')),
      });
      const s = samples[samples.length - 1]!;
      console.error(`  ${s.t.toFixed(1)} min: ${s.requests} requests, RSS ${Object.entries(s.rss).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} MB, PostgreSQL ${fmt(s.storage / 2 ** 20)} MB, JetStream ${fmt(s.jetstream / 2 ** 20)} MB`);
    };
    await sample();
    const runs = Array.from({ length: workers }, worker);
    while (performance.now() - t0 < durationMs) {
      await new Promise((res) => setTimeout(res, sampleEveryMs));
      await sample();
    }
    stop = true;
    await Promise.all(runs);
    const elapsedMin = (performance.now() - t0) / 60_000;

    const first = samples[1] ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    const half = samples.filter((s) => s.t >= elapsedMin / 2);
    const rows = procs.map((p) => {
      const ys = half.map((s) => s.rss[p.id]!);
      const perMin = slope(half.map((s) => s.t), ys);
      const peak = Math.max(...samples.map((s) => s.rss[p.id]!));
      const requestsInHalf = half.length > 1 ? half[half.length - 1]!.requests - half[0]!.requests : 0;
      const perTenK = requestsInHalf ? (perMin * (half[half.length - 1]!.t - half[0]!.t) * 10_000) / requestsInHalf : NaN;
      return [p.id, fmt(first.rss[p.id]!), fmt(last.rss[p.id]!), fmt(peak), fmt(perMin), fmt(perTenK)];
    });
    const total = last.requests;
    const storagePerReq = (last.storage - samples[0]!.storage) / Math.max(1, total);
    const jsPerReq = (last.jetstream - samples[0]!.jetstream) / Math.max(1, total);
    emit({
      suite: 'soak',
      title: 'Soak: memory and storage over ten minutes of mixed traffic through the whole stack',
      description: `${fmt(elapsedMin)} minutes of governed HTTPS traffic (${workers} clients, ${pauseMs} ms pause between requests: chat completions and model lists allowed with the credential injected, file deletions denied) through the whole stack as tf up runs it. Resident memory sampled every ${sampleEveryMs / 1000} s from /proc; the trend is the least-squares slope over the second half, once warm. Storage: PostgreSQL tables of the event store and the audit read models and chain, and the JetStream store on disk.`,
      columns: ['process', 'RSS after warm-up MB', 'RSS at the end MB', 'peak MB', 'trend, second half (MB/min)', 'trend per 10k requests (MB)'],
      rows,
      notes: [
        `${total} requests in ${fmt(elapsedMin)} min (${fmt(total / (elapsedMin * 60))} req/s): ${counts.allowed} allowed, ${counts.denied} denied, ${counts.other} other statuses, ${counts.errors} client errors.`,
        `Storage per request: PostgreSQL (event store, read models, chain) ${fmt(storagePerReq)} bytes; JetStream store ${fmt(jsPerReq)} bytes (TF_EVENTS keeps every event: no retention limit is set; the recorder has copied each into the event store).`,
        'A leak shows as a trend that stays positive over the second half; a few MB/min of noise up or down is the collector and the allocator, not growth.',
        `Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (2 shared cores).`,
      ],
      data: { samples, counts, storagePerRequestBytes: storagePerReq, jetstreamPerRequestBytes: jsPerReq },
    });
  } finally {
    await cleanup();
  }
}

await main();
