/**
 * NATS messaging on the request path: request/reply round trips through a queue group and
 * JetStream publish acks, with `libs/messaging` against raw nats.js as the baseline.
 * A private nats-server (file-storage JetStream) runs on loopback; requester and responder are
 * separate connections in this process.
 */
import { performance } from 'node:perf_hooks';
import { headers } from '@nats-io/transport-node';
import { createEvent, uuidv7 } from '@tameflare/contracts';
import { connectBus } from '@tameflare/messaging';
import { initTelemetry } from '@tameflare/telemetry';
import { startNatsServer } from '@tameflare/testing';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const telemetry = initTelemetry({ serviceName: 'bench-messaging', instanceId: 'bench', exporter: 'none' });
const tracer = telemetry.tracer;
const server = await startNatsServer();
// A failed run must not leave its nats-server behind.
process.on('uncaughtException', (err) => {
  console.error(err);
  void server.dispose().finally(() => process.exit(1));
});
process.on('unhandledRejection', (err) => {
  console.error(err);
  void server.dispose().finally(() => process.exit(1));
});
const responder = await connectBus({ servers: server.url, name: 'bench-responder' });
const client = await connectBus({ servers: server.url, name: 'bench-client', requestTimeoutMs: 5000, ackTimeoutMs: 5000 });
await client.ensureStreams();

// ~300 bytes of JSON, shaped like a small decide request.
const payload = {
  actionId: uuidv7(),
  runId: uuidv7(),
  gatewayId: 'default',
  action: { type: 'github.repo.delete', connector: 'github', resource: 'octo/hello', params: { owner: 'octo', repo: 'hello' }, risk: 'destructive' },
  ingress: { id: 'ingress-1', key: 'x'.repeat(44) },
};
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));
const cmd = { subject: 'tf.cmd.bench.echo', queue: 'bench' };
await responder.serve(cmd, (p: typeof payload) => ({ ok: true, actionId: p.actionId }));
// Raw nats.js responder for the baseline, same queue semantics.
responder.nc.subscribe('bench.raw.echo', { queue: 'bench', callback: (_e, m) => void m.respond('{"ok":true}') });
await responder.nc.flush();

const n = quick ? 2000 : 20_000;
const warmup = quick ? 300 : 2000;

interface Row {
  scenario: string;
  samples: number[];
  wallMs: number;
  count: number;
}
const rows: Row[] = [];

async function sequential(name: string, count: number, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < warmup; i++) await op();
  const samples = new Array<number>(count);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await op();
    samples[i] = performance.now() - s;
  }
  rows.push({ scenario: name, samples, wallMs: performance.now() - t0, count });
  console.error(`${name}: done`);
}

async function concurrent(name: string, count: number, workers: number, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < warmup; i++) await op();
  const samples: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next++ < count) {
        const s = performance.now();
        await op();
        samples.push(performance.now() - s);
      }
    }),
  );
  rows.push({ scenario: name, samples, wallMs: performance.now() - t0, count: samples.length });
  console.error(`${name}: done`);
}

const rawRequest = () => {
  const h = headers();
  const span = tracer.startSpan('raw');
  const sc = span.spanContext();
  h.set('traceparent', `00-${sc.traceId}-${sc.spanId}-01`);
  span.end();
  return client.nc.request('bench.raw.echo', JSON.stringify(payload), { timeout: 5000, headers: h });
};
const busRequest = () => client.request(cmd, payload);

function event() {
  return createEvent(
    'GatewayModeChanged',
    { gatewayId: 'bench', mode: 'enforce', changedBy: 'bench-user-with-a-longer-name@example.com' },
    { correlationId: uuidv7(), source: 'bench@local' },
  );
}
const eventBytes = Buffer.byteLength(JSON.stringify(event()));

await tracer.startActiveSpan('bench', async (root) => {
  await sequential('request/reply, raw nats.js, sequential', n, rawRequest);
  await sequential('request/reply, bus.request, sequential', n, busRequest);
  await concurrent('request/reply, raw nats.js, 64 concurrent', n * 2, 64, rawRequest);
  await concurrent('request/reply, bus.request, 64 concurrent', n * 2, 64, busRequest);
  const pubN = quick ? 1000 : 10_000;
  await sequential('publishEvent ack (file store), sequential', pubN, () => client.publishEvent(event()));
  await concurrent('publishEvent ack (file store), 64 in flight', pubN * 2, 64, () => client.publishEvent(event()));
  root.end();
});

const table = rows.map((r) => {
  const p = percentiles(r.samples, [50, 90, 99]);
  return [r.scenario, r.count, fmt(p.p50! * 1000), fmt(p.p90! * 1000), fmt(p.p99! * 1000), fmt((r.count / r.wallMs) * 1000)];
});

await client.close();
await responder.close();
await server.dispose();
await telemetry.shutdown();

emit({
  suite: 'messaging',
  title: 'NATS messaging: request/reply and JetStream publish acks',
  description:
    `Round trips through a private nats-server ${'2.9'} on loopback, requester and queue-group responder on separate connections in one process, ` +
    `${payloadBytes}-byte JSON request with a traceparent header (real span ids, spans not exported). ` +
    `JetStream rows publish a ${eventBytes}-byte event to TF_EVENTS (file storage) with Nats-Msg-Id and await the ack. ` +
    'Raw nats.js rows are the baseline the bus wrapper (JSON, spans, typed errors, error-reply check) adds to.',
  columns: ['scenario', 'operations', 'p50 µs', 'p90 µs', 'p99 µs', 'ops/s'],
  rows: table,
  notes: [
    '64 concurrent: 64 async callers on one connection, each awaiting its own reply before the next; latency includes queueing behind the others.',
    'Client, server and responder share the 2 cores, so these are upper bounds for one hop.',
  ],
  data: Object.fromEntries(rows.map((r) => [r.scenario, percentiles(r.samples, [50, 90, 99, 99.9])])),
});
process.exit(0);
