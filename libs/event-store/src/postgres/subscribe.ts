import { isUnavailable } from '../errors.ts';
import { backoff, sleep } from '../sleep.ts';
import type { Checkpoint, ReadAllOptions, RecordedEvent, SubscribeOptions } from '../types.ts';
import { checkLimit } from '../validate.ts';
import type { Notifier } from './notifier.ts';
import { MAX_PAGE } from './read-all.ts';

export interface PollingSubscriptionOptions extends SubscribeOptions {
  /** Longest wait between reads when no notification arrives (default 1000 ms). */
  pollIntervalMs?: number;
}

/**
 * Reads page after page from `after`, waiting for a notification (or the poll interval) when
 * caught up. Unavailability is retried with backoff forever; any other error ends the iteration.
 */
export async function* pollingSubscription(
  readAll: (options: ReadAllOptions) => Promise<RecordedEvent[]>,
  notifier: Notifier,
  options: PollingSubscriptionOptions,
): AsyncGenerator<RecordedEvent[], void, undefined> {
  const batchSize = checkLimit('batchSize', options.batchSize ?? 500, MAX_PAGE);
  const pollMs = options.pollIntervalMs ?? 1000;
  const { signal } = options;
  let cursor: Checkpoint | null = options.after;
  const waker = notifier.waker();
  let failures = 0;
  try {
    while (!signal?.aborted) {
      waker.arm();
      let page: RecordedEvent[];
      try {
        page = await readAll({ after: cursor, limit: batchSize });
        failures = 0;
      } catch (err) {
        if (signal?.aborted) return;
        if (!isUnavailable(err)) throw err;
        options.onUnavailable?.(err as Error, ++failures);
        await sleep(backoff(failures, 100, 5000), signal);
        continue;
      }
      if (signal?.aborted) return;
      if (page.length > 0) {
        cursor = page[page.length - 1]!.checkpoint;
        yield page;
        if (page.length === batchSize) continue;
      }
      await waker.wait(pollMs, signal);
    }
  } finally {
    waker.dispose();
  }
}
