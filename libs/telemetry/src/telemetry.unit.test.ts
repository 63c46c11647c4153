import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { createLogger, initTelemetry, REDACTED } from './index.ts';

const telemetry = initTelemetry({ serviceName: 'telemetry-test', instanceId: 'unit-1', exporter: 'memory' });
afterAll(() => telemetry.shutdown());

function capture() {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', instanceId: 'i-1', destination, level: 'debug' }) };
}

describe('initTelemetry', () => {
  it('creates real, recorded spans with the service resource, and propagates context', async () => {
    const span = telemetry.tracer.startSpan('outer', { kind: SpanKind.SERVER });
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanContext().traceId).not.toBe('0'.repeat(32));
    await context.with(trace.setSpan(context.active(), span), async () => {
      await new Promise((r) => setTimeout(r, 1));
      trace.getTracer('x').startSpan('inner').end();
    });
    span.end();
    await telemetry.flush();
    const spans = telemetry.memory!.getFinishedSpans();
    const inner = spans.find((s) => s.name === 'inner')!;
    expect(inner.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(inner.resource.attributes['service.name']).toBe('telemetry-test');
    expect(inner.resource.attributes['service.instance.id']).toBe('unit-1');
    expect(telemetry.exporting).toBe(false);
  });

  it('returns the running instance on a second call', () => {
    expect(initTelemetry({ serviceName: 'other', instanceId: 'x' })).toBe(telemetry);
  });
});

describe('createLogger', () => {
  it('puts trace_id and span_id of the active span on every line', () => {
    const { lines, logger } = capture();
    logger.info('outside');
    const span = telemetry.tracer.startSpan('request');
    context.with(trace.setSpan(context.active(), span), () => logger.info({ n: 1 }, 'inside'));
    span.end();
    expect(lines[0]).toMatchObject({ msg: 'outside', service: 'svc', instance: 'i-1', level: 'info' });
    expect(lines[0]!.trace_id).toBeUndefined();
    expect(lines[1]).toMatchObject({ msg: 'inside', n: 1, trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
  });

  it('redacts credentials at any depth and in any letter case', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { Authorization: 'Bearer ghp_abc', 'Proxy-Authorization': 'Basic eDp5', cookie: 'sid=1', 'X-Api-Key': 'k1', accept: '*/*' } },
        res: { headers: { 'set-cookie': ['a=b'] } },
        token: 'tfr_123',
        config: { nats: { password: 'pw', url: 'nats://x' }, runToken: 'tfr_456', secret: 's', clientSecret: 'cs' },
        list: [{ password: 'p2' }],
        tokenHash: 'ab12',
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const leaked of ['ghp_abc', 'eDp5', 'sid=1', 'k1', 'a=b', 'tfr_123', '"pw"', 'tfr_456', '"s"', '"cs"', 'p2']) expect(text).not.toContain(leaked);
    expect(lines[0]!.req.headers.Authorization).toBe(REDACTED);
    expect(lines[0]!.req.headers.accept).toBe('*/*');
    expect(lines[0]!.config.nats.url).toBe('nats://x');
    expect(lines[0]!.tokenHash).toBe('ab12');
  });

  it('serializes errors with their cause', () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error('outer', { cause: new Error('inner') }) }, 'failed');
    expect(lines[0]!.err.message).toContain('outer');
    expect(JSON.stringify(lines[0]!.err)).toContain('inner');
  });
});
