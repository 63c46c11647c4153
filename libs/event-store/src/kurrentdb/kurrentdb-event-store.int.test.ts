import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@tameflare/testing';
import { EventStoreErrorCode } from '../errors.ts';
import { describeEventStoreContract } from '../test/contract.ts';
import { fixtures } from '../test/fixtures.ts';
import type { EventStore } from '../types.ts';
import { createKurrentDbEventStore } from './kurrentdb-event-store.ts';

// No KurrentDB server can be installed on our machines (no package, no Docker): the contract
// runs only where KURRENTDB_URL points at one, e.g. kurrentdb://127.0.0.1:2113?tls=false.
const url = process.env.KURRENTDB_URL;

let closedPort = 0;
beforeAll(async () => {
  closedPort = await freePort();
});

describe.skipIf(!url)('KurrentDB server at KURRENTDB_URL', () => {
  describeEventStoreContract('KurrentDB', {
    open: async () => createKurrentDbEventStore({ connectionString: url! }),
    reopen: async () => createKurrentDbEventStore({ connectionString: url! }),
    unreachable: () => createKurrentDbEventStore({ connectionString: `kurrentdb://admin:hunter2@127.0.0.1:${closedPort}?tls=false`, deadlineMs: 3000 }),
    get unreachableTarget() {
      return `127.0.0.1:${closedPort}`;
    },
    // KurrentDB assigns the log position when the append commits: "holding" an append is
    // appending later, which is exactly the interleaving the test needs.
    beginAppend: async (store, stream, events) => ({ commit: async () => void (await store.append(stream, events, { expectedVersion: 'any' })) }),
    slowAppend: async (store, stream, events, expectedVersion, holdMs) => {
      await new Promise((r) => setTimeout(r, holdMs));
      await store.append(stream, events, { expectedVersion });
    },
  });
});

describe('KurrentDB adapter without a server', () => {
  let store: EventStore;
  beforeAll(() => {
    store = createKurrentDbEventStore({ connectionString: `kurrentdb://admin:hunter2@127.0.0.1:${closedPort}?tls=false`, deadlineMs: 3000 });
  });
  afterAll(async () => store?.close());

  it('maps a refused connection to EventStoreUnavailableError for every call, without the password', async () => {
    for (const [operation, call] of [
      ['append', () => store.append('gateway-x', [fixtures.gatewayCreated('x')], { expectedVersion: 'no_stream' })],
      ['appendIdempotent', () => store.appendIdempotent([fixtures.actionRequested()])],
      ['readStream', () => store.readStream('gateway-x')],
      ['readAll', () => store.readAll({ after: null, limit: 1 })],
    ] as const) {
      const err: any = await (call as () => Promise<unknown>)().catch((e) => e);
      expect(err.code, operation).toBe(EventStoreErrorCode.Unavailable);
      expect(err.message).toContain(operation);
      expect(err.message).toContain(`127.0.0.1:${closedPort}`);
      expect(err.message).not.toContain('hunter2');
    }
  });

  it('validates before it talks to the server: a bad event is a ContractError even when the server is down', async () => {
    const bad = { ...fixtures.gatewayCreated('x'), type: 'Nope' };
    const err = await store.append('gateway-x', [bad as never], { expectedVersion: 'any' }).catch((e) => e);
    expect(err.code).toBe('TF_ERR_CONTRACT_UNKNOWN_TYPE');
  });
});
