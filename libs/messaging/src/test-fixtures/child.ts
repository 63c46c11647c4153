/**
 * A separate process for cross-process tests. Modes:
 * - `subscriber <url> <subject> <queue> <reportSubject>`: queue-group subscriber that reports
 *   the trace context it saw for each message to `reportSubject`;
 * - `consumer <url> <stream> <durable> <filter> <reportSubject> <count>`: acks `count` messages
 *   of a durable consumer one by one, reporting each, then exits.
 * Prints `ready` on stdout once listening.
 */
import { trace } from '@opentelemetry/api';
import { connectBus } from '../index.ts';
import { installTestTracing } from './tracing.ts';

const [mode, url, ...args] = process.argv.slice(2);
installTestTracing();
const bus = await connectBus({ servers: url!, name: `child-${mode}-${process.pid}` });

if (mode === 'subscriber') {
  const [subject, queue, reportSubject] = args;
  await bus.subscribe(
    subject!,
    (payload) => {
      const span = trace.getActiveSpan();
      const sc = span?.spanContext();
      const parentSpanId = (span as unknown as { parentSpanContext?: { spanId: string } })?.parentSpanContext?.spanId;
      bus.publish(reportSubject!, { pid: process.pid, payload, traceId: sc?.traceId, spanId: sc?.spanId, parentSpanId });
    },
    { queue: queue! },
  );
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void bus.drain().then(() => process.exit(0)));
} else if (mode === 'consumer') {
  const [stream, durable, filter, reportSubject, countArg] = args;
  let left = Number(countArg);
  const handle = await bus.consume(
    { stream: stream!, durable: durable!, filterSubject: filter! },
    async (batch) => {
      for (const m of batch) {
        if (left <= 0) {
          m.nak();
          continue;
        }
        const e = m.event();
        m.ack();
        left--;
        bus.publish(reportSubject!, { pid: process.pid, id: e.id, seq: m.seq, deliveryCount: m.deliveryCount });
      }
      if (left <= 0) setImmediate(() => void finish());
    },
    { batchSize: 1 },
  );
  process.stdout.write('ready\n');
  const finish = async () => {
    await handle.stop();
    await bus.nc.flush();
    await bus.drain();
    process.exit(0);
  };
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
