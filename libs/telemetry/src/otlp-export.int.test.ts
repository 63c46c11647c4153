import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTelemetry, type Telemetry } from './index.ts';

const received: { url: string; contentType: string; body: Buffer }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ url: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
let telemetry: Telemetry;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  telemetry = initTelemetry({ serviceName: 'otlp-test', instanceId: 'otlp-1' });
});
afterAll(async () => {
  await telemetry?.shutdown();
  server.close();
});

describe('OTLP export', () => {
  it('sends spans to OTEL_EXPORTER_OTLP_ENDPOINT when it is set', async () => {
    expect(telemetry.exporting).toBe(true);
    const span = telemetry.tracer.startSpan('exported-span');
    const traceId = span.spanContext().traceId;
    span.end();
    await telemetry.flush();
    const req = received.find((r) => r.url === '/v1/traces');
    expect(req).toBeDefined();
    const text = req!.body.toString('utf8');
    expect(text).toContain('exported-span');
    expect(text).toContain('otlp-test');
    expect(text.toLowerCase()).toContain(traceId);
  });
});
