import { describe, expect, it } from 'vitest';
import { ANY, NO_STREAM, STREAM_EXISTS, UnavailableError } from '@kurrent/kurrentdb-client';
import { decodeKurrentDbCheckpoint } from '../checkpoint.ts';
import { fixtures } from '../test/fixtures.ts';
import { describeKurrentTarget, fromResolved, isKurrentUnavailable, toEventData, toStreamState } from './mapping.ts';

describe('KurrentDB mapping', () => {
  it('maps every expected version to the client stream state', () => {
    expect(toStreamState('any')).toBe(ANY);
    expect(toStreamState('no_stream')).toBe(NO_STREAM);
    expect(toStreamState('stream_exists')).toBe(STREAM_EXISTS);
    expect(toStreamState(7n)).toBe(7n);
    expect(() => toStreamState(-1n)).toThrow(/>= 0/);
    expect(() => toStreamState('latest' as never)).toThrow(/invalid expected version/);
  });

  it('round-trips an event through the shape the client writes and reads', () => {
    const event = fixtures.gatewayCreated('gw-1');
    const written = toEventData(event) as { id: string; type: string; data: unknown; metadata: Record<string, unknown>; contentType: string };
    expect(written).toMatchObject({ id: event.id, type: 'GatewayCreated', contentType: 'application/json', data: event.data });
    expect(written.metadata.$correlationId).toBe(event.metadata.correlationId);
    const recorded = fromResolved({
      event: {
        streamId: 'gateway-gw-1',
        id: written.id,
        isJson: true,
        revision: 3n,
        type: written.type,
        created: new Date(),
        data: written.data as Record<string, unknown>,
        metadata: written.metadata,
        position: { commit: 1200n, prepare: 1100n },
      },
      commitPosition: 1200n,
    });
    expect(recorded?.event).toEqual(event);
    expect(recorded?.streamVersion).toBe(3n);
    expect(recorded?.globalPosition).toBe(1200n);
    expect(decodeKurrentDbCheckpoint(recorded!.checkpoint)).toEqual({ commit: 1200n, prepare: 1100n });
  });

  it('ignores events that are not ours', () => {
    const foreign = { streamId: 's', id: 'x', isJson: true as const, revision: 0n, type: 'OrderPlaced', created: new Date(), data: {}, metadata: {}, position: { commit: 1n, prepare: 1n } };
    expect(fromResolved({ event: foreign })).toBeNull();
    expect(fromResolved({})).toBeNull();
  });

  it('recognises unavailability in typed and raw gRPC errors, and hides credentials in the target', () => {
    expect(isKurrentUnavailable(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }))).toBe(true);
    expect(isKurrentUnavailable(new UnavailableError(undefined as never))).toBe(true);
    expect(isKurrentUnavailable(Object.assign(new Error('bad'), { code: 3 }))).toBe(false);
    expect(describeKurrentTarget('kurrentdb://admin:changeit@db.internal:2113?tls=false')).toBe('db.internal:2113');
    expect(describeKurrentTarget('kurrentdb+discover://u:p@node1:2113,node2:2113')).toBe('node1:2113,node2:2113');
  });
});
