/** The roles an API token carries (libs/contracts RoleSchema). */
export type Role = 'viewer' | 'approver' | 'admin';

/** Who signed in: what the API says about the token. The token is kept for this tab only. */
export interface Session {
  token: string;
  name: string;
  role: Role;
  tokenId: string | null;
  /** Epoch ms of sign-in. */
  signedInAt: number;
}

/** A session ends after this long even if the token stays valid: ops screens get left open. */
export const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;

const KEY = 'tameflare.session';

export interface SessionStore {
  load(now: number): { session: Session | null; expired: boolean };
  save(s: Session): void;
  clear(): void;
}

/**
 * Keeps the session in `sessionStorage`: it dies with the tab, other sites cannot read it, and it
 * is never put in a URL. A stored session older than {@link SESSION_MAX_AGE_MS} is dropped and
 * reported as expired.
 */
export function createSessionStore(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>): SessionStore {
  return {
    load(now) {
      const raw = storage.getItem(KEY);
      if (!raw) return { session: null, expired: false };
      const s = parseSession(raw);
      if (!s) {
        storage.removeItem(KEY);
        return { session: null, expired: false };
      }
      if (isExpired(s, now)) {
        storage.removeItem(KEY);
        return { session: null, expired: true };
      }
      return { session: s, expired: false };
    },
    save(s) {
      storage.setItem(KEY, JSON.stringify(s));
    },
    clear() {
      storage.removeItem(KEY);
    },
  };
}

export function isExpired(s: Session, now: number): boolean {
  return now - s.signedInAt >= SESSION_MAX_AGE_MS || now < s.signedInAt - 60_000;
}

export function isRole(v: unknown): v is Role {
  return v === 'viewer' || v === 'approver' || v === 'admin';
}

function parseSession(raw: string): Session | null {
  try {
    const v = JSON.parse(raw) as Partial<Session>;
    if (typeof v.token !== 'string' || !v.token || typeof v.name !== 'string' || !isRole(v.role) || typeof v.signedInAt !== 'number') return null;
    return { token: v.token, name: v.name, role: v.role, tokenId: typeof v.tokenId === 'string' ? v.tokenId : null, signedInAt: v.signedInAt };
  } catch {
    return null;
  }
}

/** What each role may do in the dashboard. The API enforces the same; the UI only hides what would be refused. */
export function can(role: Role, what: 'vote' | 'kill'): boolean {
  if (what === 'vote') return role === 'approver' || role === 'admin';
  return role === 'admin';
}
