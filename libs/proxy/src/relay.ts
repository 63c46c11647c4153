import type { Duplex } from 'node:stream';

export interface RelayCounters {
  /** Bytes from the agent to the upstream. */
  bytesIn: number;
  /** Bytes from the upstream to the agent. */
  bytesOut: number;
}

/**
 * Pipes two sockets both ways with backpressure until either side closes, errors, or nothing
 * moves for `idleMs`; then closes both and calls `onClose` once.
 */
export function relay(agent: Duplex, upstream: Duplex, options: { idleMs: number; onClose: (counters: RelayCounters, error: Error | null) => void }): RelayCounters {
  const counters: RelayCounters = { bytesIn: 0, bytesOut: 0 };
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    if (options.idleMs <= 0) return;
    if (timer) timer.refresh();
    else timer = setTimeout(() => finish(new Error(`no traffic for ${options.idleMs} ms`)), options.idleMs);
  };
  const finish = (error: Error | null) => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    agent.destroy();
    upstream.destroy();
    options.onClose(counters, error);
  };
  const pipe = (from: Duplex, to: Duplex, key: keyof RelayCounters) => {
    from.on('data', (chunk: Buffer) => {
      counters[key] += chunk.length;
      arm();
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('close', () => {
      // One side is gone: flush what is still queued for the other side, then close both.
      if (!to.writableEnded && !to.destroyed) to.end();
      if (to.writableFinished || to.destroyed) finish(null);
      else to.once('finish', () => finish(null));
    });
    from.on('error', (err) => finish(err));
  };
  pipe(agent, upstream, 'bytesIn');
  pipe(upstream, agent, 'bytesOut');
  arm();
  return counters;
}
