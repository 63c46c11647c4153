import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEvent, isTameFlareError, Streams, TameFlareError, uuidv7 } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { startNatsServer, waitFor, type TestNatsServer } from '@tameflare/testing';
import { createEventOutbox } from './event-outbox.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

function completed(actionId: string) {
  return createEvent(
    'ActionCompleted',
    {
      actionId,
      gatewayId: 'gw-outbox',
      agentId: 'agent',
      runId: uuidv7(),
      outcome: 'completed',
      status: 200,
      forwarded: true,
      bytesIn: 0,
      bytesOut: 10,
      upstreamMs: 1,
      totalMs: 2,
      credential: null,
      approvalId: null,
      redactions: 0,
      error: null,
    },
    { correlationId: actionId, source: 'ingress@outbox-test' },
  );
}

describe('ingress event outbox', () => {
  let nats: TestNatsServer;
  let bus: Bus;
  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await connectBus({ servers: nats.url, name: 'outbox-test', reconnectTimeWaitMs: 100 } as never);
    await bus.ensureStreams();
  });
  afterAll(async () => {
    await bus?.close();
    await nats?.dispose();
  });

  async function stored(): Promise<string[]> {
    const jsm = await jetstreamManager(bus.nc);
    const info = await jsm.streams.info(Streams.events.name);
    const ids: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(Streams.events.name, { seq }).catch(() => null);
      if (m) ids.push(m.json<{ id: string }>().id);
    }
    return ids;
  }

  it('fails the caller at once while NATS is away, then records the event once NATS is back', async () => {
    const outbox = createEventOutbox(bus, { log: silent as never, minDelayMs: 50, maxDelayMs: 200 });
    const before = completed(uuidv7());
    await outbox.record(before);

    await nats.stop();
    const during = completed(uuidv7());
    const err = await outbox.record(during).then(() => null, (e: unknown) => e);
    expect(isTameFlareError(err)).toBe(true);
    expect(outbox.pending()).toBe(1);
    expect(await stored().catch(() => null)).toBeNull();

    await nats.start();
    await waitFor(() => outbox.pending() === 0, { timeoutMs: 20_000, what: 'the outbox to drain' });
    const ids = await waitFor(async () => {
      const s = await stored();
      return s.includes(during.id) ? s : null;
    }, { timeoutMs: 10_000, what: 'the held event in the stream' });
    expect(ids.filter((id) => id === before.id)).toHaveLength(1);
    expect(ids.filter((id) => id === during.id)).toHaveLength(1);
  });

  it('drops the oldest held event past its bound instead of growing without limit, and holds nothing for a refused event', async () => {
    let code = 'TF_ERR_NATS_UNAVAILABLE';
    const failing = { publishEvent: async () => { throw new TameFlareError(code, 'down'); } };
    const errors: unknown[] = [];
    const outbox = createEventOutbox(failing as never, { log: { ...silent, error: (o: unknown) => errors.push(o) } as never, maxPending: 3, minDelayMs: 60_000 });
    for (let i = 0; i < 5; i++) await expect(outbox.record(completed(uuidv7()))).rejects.toThrow('down');
    expect(outbox.pending()).toBe(3);
    expect(errors).toHaveLength(2);
    code = 'TF_ERR_NATS_PERMISSION_DENIED';
    await expect(outbox.record(completed(uuidv7()))).rejects.toThrow('down');
    expect(outbox.pending()).toBe(3);
    expect(await outbox.flush(0)).toBe(3);
  });
});
