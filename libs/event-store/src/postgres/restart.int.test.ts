import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@tameflare/contracts';
import { waitFor } from '@tameflare/testing';
import { EventStoreErrorCode } from '../errors.ts';
import { fixtures } from '../test/fixtures.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../test/private-postgres.ts';
import type { RecordedEvent } from '../types.ts';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.ts';

// A server of our own, because this test stops and starts PostgreSQL.
let server: PrivatePostgres;
let store: PostgresEventStore;

beforeAll(async () => {
  server = await startPrivatePostgres();
  store = createPostgresEventStore({ connectionString: server.url, schema: 'restart', pollIntervalMs: 200, connectTimeoutMs: 1000 });
  await store.migrate();
}, 60_000);
afterAll(async () => {
  await store?.close();
  await server?.dispose();
});

describe('PostgreSQL restart', () => {
  it('keeps a subscription alive across a restart while synchronous callers get EventStoreUnavailableError', async () => {
    const gw = 'gw-restart';
    const before = [fixtures.gatewayCreated(gw), fixtures.gatewayCreated(gw)];
    const after = [fixtures.gatewayCreated(gw), fixtures.gatewayCreated(gw)];
    const seen: RecordedEvent[] = [];
    const outages: string[] = [];
    const ctl = new AbortController();
    const sub = (async () => {
      for await (const batch of store.subscribeToAll({ after: null, signal: ctl.signal, onUnavailable: (e) => outages.push((e as { code?: string }).code ?? '') })) {
        seen.push(...batch);
      }
    })();
    const lock = await store.processors.acquireLock('restart-relay', { heartbeatMs: 200 });

    await store.append(`gateway-${uuidv7()}`, before, { expectedVersion: 'no_stream' });
    await waitFor(() => seen.length === 2, { what: 'events before the restart' });

    await server.stop();
    const down = await store.append(`gateway-${uuidv7()}`, after, { expectedVersion: 'no_stream' }).catch((e) => e);
    expect(down.code).toBe(EventStoreErrorCode.Unavailable);
    expect(down.message).toContain(`127.0.0.1:${server.port}`);
    await waitFor(() => lock!.lost, { what: 'the processor lock to be reported lost' });
    await waitFor(() => outages.length > 0, { what: 'the subscription to notice the outage' });

    await server.start();
    await waitFor(
      async () => {
        try {
          await store.append(`gateway-${uuidv7()}`, after, { expectedVersion: 'no_stream' });
          return true;
        } catch (err) {
          if ((err as { code?: string }).code !== EventStoreErrorCode.Unavailable) throw err;
          return false;
        }
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'appends to work again' },
    );
    await waitFor(() => seen.length === 4, { timeoutMs: 20_000, what: 'events after the restart' });
    ctl.abort();
    await sub;
    expect(seen.map((e) => e.event.id)).toEqual([...before, ...after].map((e) => e.id));
    expect(outages.every((c) => c === EventStoreErrorCode.Unavailable)).toBe(true);
  }, 90_000);
});
