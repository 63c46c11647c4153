import { createServer } from 'node:net';
import { StackError, StackErrorCode } from './errors.ts';

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
 * A port free on 127.0.0.1 a moment ago, chosen below Linux's ephemeral range (32768–60999):
 * a port the kernel picked with `listen(0)` comes from that range, where the source ports of
 * outgoing connections come from too, so a service restarted on it could find it taken by some
 * client's connection.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryListen(15_000 + Math.floor(Math.random() * 17_000));
    if (p !== null) return p;
  }
  const p = await tryListen(0);
  if (p === null) throw new StackError(StackErrorCode.PortInUse, 'no free TCP port on 127.0.0.1');
  return p;
}

/**
 * Picks a port: `exact` must be free (else `TF_ERR_STACK_PORT_IN_USE`); otherwise `preferred` if
 * it is free, else any free port. Ports already handed out in this start are skipped.
 */
export async function pickPort(what: string, taken: Set<number>, exact?: number, preferred?: number): Promise<number> {
  if (exact) {
    if (taken.has(exact) || (await tryListen(exact)) === null) {
      throw new StackError(StackErrorCode.PortInUse, `port ${exact} for ${what} is in use`, { hint: 'choose another port, or stop what listens there' });
    }
    taken.add(exact);
    return exact;
  }
  if (preferred && !taken.has(preferred) && (await tryListen(preferred)) !== null) {
    taken.add(preferred);
    return preferred;
  }
  for (;;) {
    const p = await freePort();
    if (!taken.has(p)) {
      taken.add(p);
      return p;
    }
  }
}
