import { describe, expect, it } from 'vitest';
import { EventStoreErrorCode } from '../errors.ts';
import { checkStreamName } from '../validate.ts';
import { checkSchemaName, describeTarget, isConnectionFailure, mapPgError } from './connection.ts';

describe('PostgreSQL connection errors', () => {
  it('tells an unreachable server from a failing statement', () => {
    expect(isConnectionFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionFailure(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isConnectionFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionFailure(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  });

  it('maps failures to EventStoreUnavailableError naming host and port, never the password', () => {
    const target = describeTarget('postgres://app:s3cret@db.internal:6543/tf');
    expect(target).toBe('db.internal:6543/tf');
    let err: any;
    try {
      mapPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), target, 'append');
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe(EventStoreErrorCode.Unavailable);
    expect(err.message).toBe('event store unavailable: append failed, PostgreSQL at db.internal:6543/tf cannot be reached (connect ECONNREFUSED)');
    expect(() => mapPgError(Object.assign(new Error('boom'), { code: '42P01' }), target, 'append')).toThrow('boom');
  });

  it('accepts only plain schema and stream names', () => {
    expect(checkSchemaName('tf_events')).toBe('tf_events');
    for (const bad of ['Events', '1x', 'a-b', 'x"; drop', 'a'.repeat(49)]) expect(() => checkSchemaName(bad)).toThrow(/invalid event store schema name/);
    expect(checkStreamName('approval-0189')).toBe('approval-0189');
    for (const bad of ['', '$all', ' x', 'a\u0000b', 'x'.repeat(201)]) {
      expect(() => checkStreamName(bad)).toThrowError(expect.objectContaining({ code: EventStoreErrorCode.InvalidArgument }));
    }
  });
});
