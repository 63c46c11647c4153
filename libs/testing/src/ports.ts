import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(p));
    });
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, chosen below Linux's ephemeral range:
 * the source ports of outgoing connections come from that range, so a server restarted on a
 * kernel-picked port could find it taken by some client's connection.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryListen(15_000 + Math.floor(Math.random() * 17_000));
    if (p !== null) return p;
  }
  const p = await tryListen(0);
  if (p === null) throw new Error('no free TCP port on 127.0.0.1');
  return p;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
