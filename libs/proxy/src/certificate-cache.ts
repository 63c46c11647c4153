import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateAuthority } from './ca.ts';

/** Per-host TLS server contexts for interception, issued on demand by the local CA. */
export interface CertificateCache {
  /** The cached context for `host` if it is still fresh, without waiting. */
  peek(host: string): SecureContext | undefined;
  /**
   * The context for `host`, issuing a leaf when needed. Concurrent calls for one host share one
   * issuance (the promise is cached, not only the result).
   */
  get(host: string): Promise<SecureContext>;
  readonly size: number;
}

export interface CertificateCacheOptions {
  ca: CertificateAuthority;
  /** Maximum hosts kept (least recently used evicted). Default 1000. */
  maxEntries?: number;
  /** Reissue a leaf this long before it expires. Default 1 day. */
  renewBeforeMs?: number;
}

interface Entry {
  ctx: SecureContext;
  renewAt: number;
}

/**
 * An LRU of TLS contexts keyed by host, with in-flight de-duplication: a burst of connections
 * to a new host costs one certificate, and a flood of unique hosts is bounded by `maxEntries`.
 */
export function createCertificateCache(options: CertificateCacheOptions): CertificateCache {
  const max = options.maxEntries ?? 1000;
  const renewBefore = options.renewBeforeMs ?? 24 * 3600 * 1000;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<SecureContext>>();

  const peek = (host: string): SecureContext | undefined => {
    const e = entries.get(host);
    if (!e || e.renewAt <= Date.now()) return undefined;
    // Map order is insertion order: re-inserting marks it most recently used.
    entries.delete(host);
    entries.set(host, e);
    return e.ctx;
  };

  const issue = async (host: string): Promise<SecureContext> => {
    try {
      const leaf = await options.ca.issueLeaf(host);
      const ctx = createSecureContext({ cert: leaf.certPem, key: leaf.keyPem, minVersion: 'TLSv1.2' });
      entries.delete(host);
      const expires = leaf.notAfter.getTime();
      entries.set(host, { ctx, renewAt: expires - Math.min(renewBefore, (expires - Date.now()) / 2) });
      while (entries.size > max) entries.delete(entries.keys().next().value as string);
      return ctx;
    } finally {
      pending.delete(host);
    }
  };

  return {
    peek,
    get(host) {
      const hit = peek(host);
      if (hit) return Promise.resolve(hit);
      let p = pending.get(host);
      if (!p) {
        p = issue(host);
        pending.set(host, p);
      }
      return p;
    },
    get size() {
      return entries.size;
    },
  };
}
