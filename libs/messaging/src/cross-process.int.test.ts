import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, waitFor, type TestNatsServer } from '@tameflare/testing';
import { SpanKind, trace } from '@opentelemetry/api';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectBus, type Bus } from './index.ts';
import { gatewayCreated } from './test-fixtures/events.ts';
import { spawnChild, type Child } from './test-fixtures/spawn-child.ts';
import { installTestTracing } from './test-fixtures/tracing.ts';

const { exporter, provider } = installTestTracing();
let server: TestNatsServer;
let bus: Bus;
const children: Child[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'parent' });
});
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await bus?.close();
  await server?.dispose();
});

describe('across processes', () => {
  it('delivers to a queue-group subscriber in another process with the trace context intact', async () => {
    const reports: { pid: number; payload: { n: number }; traceId: string; spanId: string; parentSpanId: string }[] = [];
    await bus.subscribe('test.report.trace', (r) => void reports.push(r));
    children.push(await spawnChild(['subscriber', server.url, 'tf.evt.test.trace', 'tracers', 'test.report.trace']));
    children.push(await spawnChild(['subscriber', server.url, 'tf.evt.test.trace', 'tracers', 'test.report.trace']));

    const sent: { traceId: string; spanId: string }[] = [];
    const tracer = trace.getTracer('test');
    for (let n = 0; n < 20; n++) {
      tracer.startActiveSpan(`action ${n}`, (root) => {
        bus.publish('tf.evt.test.trace', { n });
        root.end();
      });
    }
    await waitFor(() => reports.length === 20, { timeoutMs: 10_000 });
    await provider.forceFlush();
    const producers = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER && s.name === 'publish tf.evt.test.trace');
    expect(producers).toHaveLength(20);
    for (const p of producers) sent.push({ traceId: p.spanContext().traceId, spanId: p.spanContext().spanId });

    const pids = new Set(reports.map((r) => r.pid));
    expect(pids.has(process.pid)).toBe(false);
    expect(pids.size).toBe(2);
    expect(new Set(reports.map((r) => r.payload.n)).size).toBe(20);
    for (const r of reports) {
      const producer = sent.find((s) => s.spanId === r.parentSpanId);
      expect(producer, `child span's parent ${r.parentSpanId} is one of our PRODUCER spans`).toBeDefined();
      expect(r.traceId).toBe(producer!.traceId);
      expect(r.spanId).not.toBe(producer!.spanId);
    }
  });

  it('resumes a durable consumer where the previous consumer process stopped', async () => {
    await bus.ensureStreams();
    const ref = { stream: 'TF_EVENTS', durable: 'test-resume', filterSubject: 'tf.evt.gateway.created.resume' };
    await bus.ensureConsumer(ref, { ackWaitMs: 2000 });
    const events = Array.from({ length: 6 }, () => gatewayCreated('resume'));
    await bus.publishEvents(events);
    const seen: { pid: number; id: string; deliveryCount: number }[] = [];
    await bus.subscribe('test.report.consumer', (r) => void seen.push(r));

    const first = await spawnChild(['consumer', server.url, ref.stream, ref.durable, ref.filterSubject, 'test.report.consumer', '3']);
    children.push(first);
    expect(await first.exited).toBe(0);
    await waitFor(() => seen.length === 3);
    const second = await spawnChild(['consumer', server.url, ref.stream, ref.durable, ref.filterSubject, 'test.report.consumer', '3']);
    children.push(second);
    expect(await second.exited).toBe(0);
    await waitFor(() => seen.length === 6, { timeoutMs: 10_000 });

    // The first process acked 0..2 in order; none of them comes back. A message it had pulled but
    // not handled is redelivered after the ack wait, so the second process may see 3..5 in any order.
    expect(seen.slice(0, 3).map((s) => s.id)).toEqual(events.slice(0, 3).map((e) => e.id));
    expect(seen.slice(3).map((s) => s.id).sort()).toEqual(events.slice(3).map((e) => e.id).sort());
    expect(seen.slice(0, 3).every((s) => s.pid === first.proc.pid)).toBe(true);
    expect(seen.slice(3).every((s) => s.pid === second.proc.pid)).toBe(true);
    const info = await (await jetstreamManager(bus.nc)).consumers.info(ref.stream, ref.durable);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });
});
