import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { globToSql } from './glob-sql.ts';

describe('cursors', () => {
  const p = { time: '2026-05-01T12:00:00.123456Z', id: '0196a000-0000-7000-8000-000000000001' };
  it('round-trips and stays opaque', () => {
    const c = encodeCursor('actions', p);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('actions', c)).toEqual(p);
  });
  it.each([
    ['garbage', 'not a cursor'],
    ['', 'not a cursor'],
    [Buffer.from('{"a":1}').toString('base64url'), 'not a cursor'],
    [Buffer.from(JSON.stringify(['tf1', 'actions', 'yesterday', p.id])).toString('base64url'), 'bad position'],
    [Buffer.from(JSON.stringify(['tf1', 'actions', p.time, "x' OR 1=1"])).toString('base64url'), 'bad position'],
  ])('refuses %j', (cursor, why) => {
    let err: unknown;
    try {
      decodeCursor('actions', cursor);
    } catch (e) {
      err = e;
    }
    expect(isTameFlareError(err, 'TF_ERR_AUDIT_INVALID_CURSOR')).toBe(true);
    expect((err as Error).message).toContain(why);
  });
  it('refuses a cursor of another list', () => {
    expect(() => decodeCursor('approvals', encodeCursor('actions', p))).toThrow(/belongs to actions/);
  });
});

describe('globToSql', () => {
  const matches = (pattern: string, value: string) => new RegExp(globToSql(pattern, 'action').regex.replace(/\\(.)/g, (_, c) => (/[A-Za-z0-9]/.test(c) ? c : '\\' + c))).test(value);
  it('keeps * inside a segment and lets ** cross', () => {
    expect(matches('github.repo.*', 'github.repo.delete')).toBe(true);
    expect(matches('github.*', 'github.repo.delete')).toBe(false);
    expect(matches('github.**', 'github.repo.delete')).toBe(true);
    expect(matches('*.delete', 'gitlab.delete')).toBe(true);
  });
  it('gives an index-friendly prefix and a literal when there is no star', () => {
    expect(globToSql('github.repo.*', 'action')).toMatchObject({ literal: null, likePrefix: 'github.repo.%' });
    expect(globToSql('stripe.refund.create', 'action')).toMatchObject({ literal: 'stripe.refund.create' });
    expect(globToSql('my_app.*', 'action').likePrefix).toBe('my\\_app.%');
    // The common shapes become equalities on indexed columns, or an exact LIKE.
    expect(globToSql('github.repo.*', 'action')).toMatchObject({ parent: 'github.repo', verb: null });
    expect(globToSql('**.delete', 'action')).toMatchObject({ verb: 'delete', parent: null });
    expect(globToSql('github.**', 'action')).toMatchObject({ likePrefix: 'github.%', likeIsExact: true });
    expect(globToSql('github.*.delete', 'action')).toMatchObject({ parent: null, verb: null, likeIsExact: false });
  });
  it('refuses characters action types never have', () => {
    expect(() => globToSql("github.'; drop table", 'action')).toThrow(/invalid action type glob/);
  });
});
