import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { compareCheckpoints, decodeKurrentDbCheckpoint, decodePostgresCheckpoint, encodeKurrentDbCheckpoint, encodePostgresCheckpoint } from './checkpoint.ts';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('checkpoints', () => {
  test.prop([u64, u64, u64, u64])('string order is (transaction_id, global_position) order', (t1, p1, t2, p2) => {
    const a = encodePostgresCheckpoint(t1, p1);
    const b = encodePostgresCheckpoint(t2, p2);
    const expected = t1 === t2 ? Math.sign(Number(p1 - p2)) : Math.sign(Number(t1 - t2));
    expect(Math.sign(compareCheckpoints(a, b))).toBe(expected);
    expect(decodePostgresCheckpoint(a)).toEqual({ transactionId: t1, globalPosition: p1 });
  });

  it('orders null before everything and decodes KurrentDB positions', () => {
    const k = encodeKurrentDbCheckpoint(18446744073709551615n, 5n);
    expect(compareCheckpoints(null, k)).toBe(-1);
    expect(compareCheckpoints(k, null)).toBe(1);
    expect(compareCheckpoints(k, k)).toBe(0);
    expect(decodeKurrentDbCheckpoint(k)).toEqual({ commit: 18446744073709551615n, prepare: 5n });
  });

  it('refuses checkpoints from another adapter or made by hand', () => {
    const pgc = encodePostgresCheckpoint(1n, 2n);
    expect(() => decodeKurrentDbCheckpoint(pgc)).toThrow(/not a KurrentDB event store checkpoint/);
    for (const bad of ['', '42', 'pg:1:2', `${pgc} `, 'pg:000000000000000000001:00000000000000000002']) {
      expect(() => decodePostgresCheckpoint(bad)).toThrowError(expect.objectContaining({ code: 'TF_ERR_STORE_BAD_CHECKPOINT' }));
    }
  });
});
