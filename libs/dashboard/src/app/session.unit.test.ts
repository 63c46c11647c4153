import { describe, expect, it } from 'vitest';
import { can, createSessionStore, SESSION_MAX_AGE_MS, type Session } from './session.ts';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

const s: Session = { token: 'tfa_abcdefghijklmnop', name: 'alice', role: 'approver', tokenId: null, signedInAt: 1_000_000 };

describe('session store', () => {
  it('keeps a session until it is 12 hours old, then drops it and says it expired', () => {
    const st = memoryStorage();
    const store = createSessionStore(st);
    store.save(s);
    expect(store.load(s.signedInAt + 1000)).toEqual({ session: s, expired: false });
    expect(store.load(s.signedInAt + SESSION_MAX_AGE_MS)).toEqual({ session: null, expired: true });
    expect(st.m.size).toBe(0);
  });

  it('drops a stored value that is not a session (tampered or from another version) without calling it expired', () => {
    const st = memoryStorage();
    st.setItem('tameflare.session', JSON.stringify({ ...s, role: 'root' }));
    expect(createSessionStore(st).load(s.signedInAt)).toEqual({ session: null, expired: false });
    st.setItem('tameflare.session', '{not json');
    expect(createSessionStore(st).load(s.signedInAt)).toEqual({ session: null, expired: false });
  });

  it('only approvers and admins vote; only admins use the kill switch', () => {
    expect([can('viewer', 'vote'), can('approver', 'vote'), can('admin', 'vote')]).toEqual([false, true, true]);
    expect([can('viewer', 'kill'), can('approver', 'kill'), can('admin', 'kill')]).toEqual([false, false, true]);
  });
});
