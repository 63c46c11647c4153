import pg from 'pg';
import { backoff, sleep } from '../sleep.ts';
import { clientConfig, type PostgresConnectionOptions } from './connection.ts';

/** One subscriber's view of the append notifications. */
export interface Waker {
  /** Forget notifications seen so far; call just before reading. */
  arm(): void;
  /** Resolves on the next notification since {@link arm}, after `ms`, or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  dispose(): void;
}

export interface Notifier {
  waker(): Waker;
  close(): Promise<void>;
}

/**
 * One LISTEN connection per store, shared by all its subscriptions. It is only a wake-up hint:
 * subscribers poll anyway, so a notification lost while reconnecting delays, never loses, events.
 */
export function createNotifier(options: PostgresConnectionOptions, channel: string, onError: (err: Error) => void): Notifier {
  const wakers = new Set<{ dirty: boolean; wake: (() => void) | null }>();
  let loopDone: Promise<void> | null = null;
  const stop = new AbortController();
  const stopped = new Promise<void>((r) => stop.signal.addEventListener('abort', () => r(), { once: true }));

  const wakeAll = () => {
    for (const w of wakers) {
      w.dirty = true;
      w.wake?.();
    }
  };

  const loop = async () => {
    for (let attempt = 1; !stop.signal.aborted; ) {
      const c = new pg.Client({ ...clientConfig(options), application_name: 'tameflare-event-store-listen' });
      const ended = new Promise<void>((resolve) => {
        c.once('end', resolve);
        c.on('error', (err) => {
          onError(err);
          resolve();
        });
      });
      c.on('notification', wakeAll);
      try {
        await c.connect();
        await c.query(`LISTEN "${channel}"`);
        attempt = 1;
        // Anything appended while we were not listening must be read now.
        wakeAll();
        await Promise.race([ended, stopped]);
      } catch (err) {
        onError(err as Error);
      }
      await c.end().catch(() => undefined);
      if (stop.signal.aborted) return;
      wakeAll();
      await sleep(backoff(attempt++, 200, 5000), stop.signal);
    }
  };

  return {
    waker() {
      loopDone ??= loop();
      const w = { dirty: false, wake: null as (() => void) | null };
      wakers.add(w);
      return {
        arm: () => {
          w.dirty = false;
        },
        wait: (ms, signal) => {
          if (w.dirty || signal?.aborted) return Promise.resolve();
          return new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(t);
              signal?.removeEventListener('abort', done);
              w.wake = null;
              resolve();
            };
            const t = setTimeout(done, ms);
            signal?.addEventListener('abort', done, { once: true });
            w.wake = done;
          });
        },
        dispose: () => {
          w.wake?.();
          wakers.delete(w);
        },
      };
    },
    async close() {
      stop.abort();
      wakeAll();
      await loopDone;
    },
  };
}
