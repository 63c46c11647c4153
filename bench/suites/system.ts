/**
 * The whole system, in one run: TameFlare as `tf up` runs it (every service as its own process
 * over a private nats-server and PostgreSQL: ingress, policy, vault, approval, control, recorder,
 * projector, audit-api) against a direct request and against squid, tinyproxy and mitmproxy from
 * Debian, all over HTTPS to the same local upstream on this machine.
 *
 * Latency: one kept-alive connection, sequential requests; throughput: 32 connections. CPU per
 * request adds up every TameFlare process (and nats-server), so the recorder and projector
 * keeping up with the load are counted. Under that load, a sampler measures how long after its
 * response a request's action is in the audit read models with its outcome (what GraphQL serves).
 *
 * The upstream and the load client are the ingress suite's helper roles (bench/suites/ingress.ts
 * --role upstream|load), so both suites measure the same way.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const INGRESS_SUITE = join(import.meta.dirname, 'ingress.ts');
const CHAT_PATH = '/v1/chat/completions';
const POLICY = `
version: 1
name: bench-system
rules:
  - id: allow-openai
    effect: allow
    match: { actions: ["openai.**"] }
    reason: The benchmark calls the chat API
`;

interface LoadResult {
  count: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

function spawnReady(args: string[], what: string): Promise<{ child: ChildProcess; info: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, info: JSON.parse(m[1]!) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

function load(spec: { url: string; proxy: string | null; ca: string[]; servername: string | null }, connections: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [INGRESS_SUITE, '--role', 'load', JSON.stringify({ ...spec, connections, warmupMs, durationMs })], { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`load failed: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult);
    });
  });
}

function cpuTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });

async function main(): Promise<void> {
  const { loadOrCreateCa } = await import('@tameflare/proxy');
  const { createTestDatabase, freePort, waitFor } = await import('@tameflare/testing');
  const { startStack, stopStack, connectAdmin, setSecret, configureConnector } = await import('@tameflare/stack');
  const { Commands } = await import('@tameflare/contracts');
  const pg = (await import('pg')).default;
  const { ProxyAgent, request } = await import('undici');

  const dir = mkdtempSync(join(tmpdir(), 'tf-bench-system-'));
  chmodSync(dir, 0o777);
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const durationMs = quick ? 2000 : 8000;
  const warmupMs = quick ? 500 : 2000;
  const loadAtStart = loadavg();

  try {
    const upCa = await loadOrCreateCa({ stateDir: join(dir, 'upstream-ca'), commonName: 'Bench upstream CA' });
    const leaf = await upCa.issueLeaf('api.openai.com');
    writeFileSync(join(dir, 'up.cert.pem'), leaf.certPem);
    writeFileSync(join(dir, 'up.key.pem'), leaf.keyPem);
    const upCaFile = join(dir, 'upstream-ca', 'ca.cert.pem');
    const up = await spawnReady([INGRESS_SUITE, '--role', 'upstream', JSON.stringify({ cert: join(dir, 'up.cert.pem'), key: join(dir, 'up.key.pem') })], 'upstream');
    children.push(up.child);
    const httpsPort = up.info.https!;
    const directUrl = `https://127.0.0.1:${httpsPort}${CHAT_PATH}`;

    // Peers, each on a free port.
    const squidPort = await freePort();
    writeFileSync(
      join(dir, 'squid.conf'),
      [`http_port 127.0.0.1:${squidPort}`, 'acl all src all', 'http_access allow all', 'cache deny all', 'cache_mem 8 MB', 'access_log none', 'cache_store_log none', `cache_log ${join(dir, 'squid-cache.log')}`, `pid_filename ${join(dir, 'squid.pid')}`, `coredump_dir ${dir}`, 'via off', 'forwarded_for delete', 'shutdown_lifetime 0 seconds', 'cache_effective_user proxy'].join('\n') + '\n',
    );
    const squid = spawn('/usr/sbin/squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: 'ignore' });
    children.push(squid);
    const tinyPort = await freePort();
    writeFileSync(join(dir, 'tinyproxy.conf'), ['User nobody', 'Group nogroup', `Port ${tinyPort}`, 'Listen 127.0.0.1', 'Timeout 600', 'MaxClients 256', 'Allow 127.0.0.1', 'LogLevel Critical', 'DisableViaHeader Yes'].join('\n') + '\n');
    const tiny = spawn('/usr/bin/tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
    children.push(tiny);
    const mitmPort = await freePort();
    const mitmDir = join(dir, 'mitm');
    const mitm = spawn('/usr/bin/mitmdump', ['--listen-host', '127.0.0.1', '--listen-port', String(mitmPort), '--set', `confdir=${mitmDir}`, '--ssl-insecure', '-q'], { stdio: 'ignore' });
    children.push(mitm);
    await waitFor(async () => (await portOpen(squidPort)) && (await portOpen(tinyPort)) && (await portOpen(mitmPort)) && existsSync(join(mitmDir, 'mitmproxy-ca-cert.pem')), { timeoutMs: 30_000, what: 'squid, tinyproxy and mitmdump' });

    // TameFlare, the whole stack as tf up runs it.
    const db = await createTestDatabase('bench_system');
    cleanups.push(() => db.drop());
    const stateDir = join(dir, 'state');
    const t0 = performance.now();
    const up2 = await startStack({
      stateDir,
      databaseUrl: db.url,
      env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: `api.openai.com:443=https://127.0.0.1:${httpsPort}`, TF_INGRESS_UPSTREAM_CA_FILES: upCaFile } },
      actor: 'bench',
      logLevel: 'warn',
      readyTimeoutMs: 180_000,
    });
    cleanups.push(() => stopStack({ stateDir, graceMs: 5000 }).then(() => undefined));
    const startSeconds = (performance.now() - t0) / 1000;
    const { bus } = await connectAdmin(stateDir, { requestTimeoutMs: 30_000 });
    cleanups.push(() => bus.close());
    await setSecret(bus, { gatewayId: 'default', name: 'openai-key', value: `sk-bench-${Math.random().toString(36).slice(2)}`, actor: 'bench' });
    await configureConnector(bus, { gatewayId: 'default', connectorId: 'openai', kind: 'openai', secretName: 'openai-key', actor: 'bench' });
    await bus.request(Commands.policyPublish, { gatewayId: 'default', source: POLICY, fileName: 'bench.yaml', publishedBy: 'bench' }, { timeoutMs: 30_000 });
    const run = await bus.request<{ token: string; runId: string }>(Commands.runStart, { agentName: 'bench-agent', gatewayId: 'default', command: 'bench', hostname: 'bench', pid: process.pid, startedBy: 'bench' });
    const proxyUrl = `http://tf:${run.token}@${up2.info.proxies[0]!.url.replace(/^http:\/\//, '')}`;
    const tfCa = up2.info.caCertFile;
    const tfPids = Object.fromEntries(up2.info.processes.map((p) => [p.instanceId, p.pid]));

    interface Target {
      name: string;
      what: string;
      spec: { url: string; proxy: string | null; ca: string[]; servername: string | null };
      pids: Record<string, number | undefined>;
    }
    const targets: Target[] = [
      { name: 'direct', what: 'no proxy', spec: { url: directUrl, proxy: null, ca: [upCaFile], servername: 'api.openai.com' }, pids: {} },
      {
        name: 'TameFlare (whole stack)',
        what: 'MITM; classified, decided by policy, recorded in JetStream, credential from the vault injected; recorder and projector keeping the audit up to date',
        spec: { url: `https://api.openai.com${CHAT_PATH}`, proxy: proxyUrl, ca: [tfCa], servername: 'api.openai.com' },
        pids: tfPids,
      },
      { name: 'mitmproxy 8.1', what: 'MITM, no policy, no record (upstream certificate not verified)', spec: { url: directUrl, proxy: `http://127.0.0.1:${mitmPort}`, ca: [join(mitmDir, 'mitmproxy-ca-cert.pem')], servername: null }, pids: { mitmdump: mitm.pid } },
      { name: 'squid 5.7', what: 'CONNECT tunnel, not intercepted', spec: { url: directUrl, proxy: `http://127.0.0.1:${squidPort}`, ca: [upCaFile], servername: 'api.openai.com' }, pids: { squid: squid.pid } },
      { name: 'tinyproxy 1.11', what: 'CONNECT tunnel, not intercepted', spec: { url: directUrl, proxy: `http://127.0.0.1:${tinyPort}`, ca: [upCaFile], servername: 'api.openai.com' }, pids: { tinyproxy: tiny.pid } },
    ];

    // How long after its response a request is in the audit with its outcome, sampled under load.
    const auditLag = async (stopAt: number): Promise<number[]> => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: readFileSync(tfCa, 'utf8'), servername: 'api.openai.com' } });
      const lags: number[] = [];
      try {
        while (performance.now() < stopAt) {
          const id = `lag${Math.random().toString(36).slice(2)}`;
          const r = await request(`https://api.openai.com${CHAT_PATH}?${id}`, { method: 'POST', body: '{"model":"gpt-4o-mini","messages":[]}', headers: { 'content-type': 'application/json' }, dispatcher: agent });
          await r.body.text();
          const answered = performance.now();
          for (;;) {
            const q = await client.query(`SELECT 1 FROM audit.actions WHERE run_id = $1 AND query = $2 AND outcome IS NOT NULL`, [run.runId, id]);
            if (q.rowCount) break;
            if (performance.now() - answered > 30_000) throw new Error(`action ${id} not in the audit after 30 s`);
            await new Promise((res) => setTimeout(res, 5));
          }
          lags.push(performance.now() - answered);
          await new Promise((res) => setTimeout(res, 200));
        }
      } finally {
        await agent.close();
        await client.end();
      }
      return lags;
    };

    const results: { t: Target; latency: LoadResult; load: LoadResult; cpuUsPerReq: number }[] = [];
    let lags: number[] = [];
    for (const t of targets) {
      console.error(`  ${t.name}: latency (1 connection)...`);
      const latency = await load(t.spec, 1, warmupMs, durationMs);
      console.error(`    p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms, errors ${latency.errors}`);
      console.error(`  ${t.name}: throughput (32 connections)...`);
      const before = Object.values(t.pids).reduce<number>((s, p) => s + cpuTicks(p), 0);
      const sampling = t.name.startsWith('TameFlare') ? auditLag(performance.now() + warmupMs + durationMs) : null;
      const loaded = await load(t.spec, 32, warmupMs, durationMs);
      if (sampling) lags = await sampling;
      const cpuUsPerReq = loaded.count ? ((Object.values(t.pids).reduce<number>((s, p) => s + cpuTicks(p), 0) - before) * 10_000) / loaded.count : NaN;
      console.error(`    ${fmt(loaded.rps)} req/s, p50 ${fmt(loaded.p50)} ms, p99 ${fmt(loaded.p99)} ms, errors ${loaded.errors}, CPU ${fmt(cpuUsPerReq)} µs/req`);
      results.push({ t, latency, load: loaded, cpuUsPerReq });
    }

    const direct = results[0]!;
    const added = (ms: number) => (ms < 0 ? '≤ 0 (noise)' : fmt(ms));
    const rows = results.map(({ t, latency, load: l, cpuUsPerReq }) => {
      const isDirect = t.name === 'direct';
      return [
        t.name,
        t.what,
        fmt(latency.p50),
        fmt(latency.p99),
        isDirect ? '–' : added(latency.p50 - direct.latency.p50),
        isDirect ? '–' : added(latency.p99 - direct.latency.p99),
        fmt(l.rps),
        isDirect ? '1' : fmt(l.rps / direct.load.rps),
        isDirect ? '–' : fmt(cpuUsPerReq),
        latency.errors + l.errors,
      ];
    });
    const tf = results[1]!;
    const lag = percentiles(lags, [50, 99, 100]);
    const cpu = cpus();
    emit({
      suite: 'system',
      title: 'Whole system: TameFlare (every service) vs direct vs squid, tinyproxy, mitmproxy',
      description:
        'HTTPS POST of a ~330-byte chat request answered with ~1 KB JSON by a local Node upstream, through each proxy, in one run on this machine. TameFlare is the whole stack as tf up runs it: ingress, policy, vault, approval, control, recorder, projector and audit-api, each its own process and NATS user, over a private nats-server (JetStream file storage) and PostgreSQL. Latency: one kept-alive connection, sequential requests (added = over direct). Throughput: 32 connections, closed loop, client on the same cores. CPU: µs per request at 32 connections, summed over every process of the proxy (all TameFlare processes and nats-server).',
      columns: ['proxy', 'what it does', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'req/s (32 conns)', 'req/s vs direct', 'CPU µs/req', 'errors'],
      rows,
      notes: [
        `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, shared with other work: load average ${loadAtStart.map((x) => x.toFixed(1)).join(', ')} at the start, ${loadavg().map((x) => x.toFixed(1)).join(', ')} at the end. Client, proxies, upstream, NATS and PostgreSQL all on it.`,
        `TameFlare adds ${fmt(tf.latency.p50 - direct.latency.p50)} ms p50 and ${fmt(tf.latency.p99 - direct.latency.p99)} ms p99 over a direct request (targets: 1 ms / 5 ms) and sustains ${fmt(tf.load.rps)} governed req/s with every service running (target 5,000).`,
        `Under that load, a request's action was in the audit read models with its outcome p50 ${fmt(lag.p50!)} ms, p99 ${fmt(lag.p99!)} ms, max ${fmt(lag.p100!)} ms after its response (${lags.length} samples; target ≤ 1 s p99).`,
        `The stack started in ${startSeconds.toFixed(1)} s (${up2.info.processes.length} processes).`,
        'squid and tinyproxy do not intercept TLS here: their rows are CONNECT tunnels, so they neither see nor govern the request; mitmproxy intercepts but decides and records nothing.',
      ],
      data: { results: results.map((r) => ({ name: r.t.name, latency: r.latency, load: r.load, cpuUsPerReq: r.cpuUsPerReq })), auditLagMs: { ...lag, n: lags.length } },
    });
  } finally {
    await cleanup();
  }
}

await main();
