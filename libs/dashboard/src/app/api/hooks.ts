import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from './context.tsx';
import { apiError, isApiError, type ApiError } from './errors.ts';

export type QueryState<T> =
  | { status: 'loading'; data: null; error: null }
  | { status: 'ready'; data: T; error: null }
  | { status: 'error'; data: T | null; error: ApiError };

export interface QueryResult<T> {
  state: QueryState<T>;
  /** True while a reload runs with the previous data still shown. */
  refreshing: boolean;
  reload(): void;
}

/** How long before a query that could not reach the API is tried again on its own. */
export const RETRY_UNREACHABLE_MS = 5000;

/**
 * Runs a query when its variables change and on `reload()`. A reload keeps the data shown (no
 * flash of "loading"); an unreachable API is retried every few seconds; any other error waits
 * for the person to retry.
 */
export function useQuery<T>(query: string, variables: Record<string, unknown> | null): QueryResult<T> {
  const { client } = useApi();
  const key = variables === null ? null : JSON.stringify(variables);
  const [state, setState] = useState<QueryState<T>>({ status: 'loading', data: null, error: null });
  const [refreshing, setRefreshing] = useState(false);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  const lastKey = useRef<string | null>(null);

  useEffect(() => {
    if (key === null) return;
    const mine = ++seq.current;
    const sameKey = lastKey.current === key;
    lastKey.current = key;
    if (sameKey) setRefreshing(true);
    else setState({ status: 'loading', data: null, error: null });
    let retry: ReturnType<typeof setTimeout> | undefined;
    client
      .request<T>(query, JSON.parse(key) as Record<string, unknown>)
      .then((data) => {
        if (seq.current !== mine) return;
        setState({ status: 'ready', data, error: null });
      })
      .catch((e: unknown) => {
        if (seq.current !== mine) return;
        const error = isApiError(e) ? e : apiError('server', e instanceof Error ? e.message : String(e));
        setState((prev) => ({ status: 'error', data: sameKey ? prev.data : null, error }));
        if (error.kind === 'unreachable') retry = setTimeout(() => setTick((t) => t + 1), RETRY_UNREACHABLE_MS);
      })
      .finally(() => {
        if (seq.current === mine) setRefreshing(false);
      });
    return () => {
      if (retry) clearTimeout(retry);
    };
  }, [client, query, key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { state, refreshing, reload };
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'paused' | 'failed';

/**
 * Keeps a subscription open while `enabled`, reconnecting with backoff when the API goes away.
 * `onReconnect` runs each time the feed comes back after a cut, so a view can reload what it
 * may have missed.
 */
export function useSubscription<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  opts: { enabled: boolean; onReconnect?: () => void },
): { status: LiveStatus; error: ApiError | null } {
  const { client } = useApi();
  const key = JSON.stringify(variables);
  const [status, setStatus] = useState<LiveStatus>(opts.enabled ? 'connecting' : 'paused');
  const [error, setError] = useState<ApiError | null>(null);
  const onDataRef = useRef(onData);
  const onReconnectRef = useRef(opts.onReconnect);
  onDataRef.current = onData;
  onReconnectRef.current = opts.onReconnect;

  useEffect(() => {
    if (!opts.enabled) {
      setStatus('paused');
      return;
    }
    let stop: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let closed = false;
    let cut = false;
    const connect = () => {
      setStatus(cut ? 'reconnecting' : 'connecting');
      stop = client.subscribe<T>(query, JSON.parse(key) as Record<string, unknown>, {
        onOpen() {
          attempt = 0;
          setStatus('live');
          setError(null);
          if (cut) onReconnectRef.current?.();
          cut = false;
        },
        onNext(data) {
          onDataRef.current(data);
        },
        onError(e) {
          if (closed) return;
          setError(e);
          if (e.kind === 'unreachable' || e.kind === 'server') {
            cut = true;
            setStatus('reconnecting');
            const delay = Math.min(10_000, 500 * 2 ** attempt++);
            timer = setTimeout(connect, delay);
          } else {
            setStatus('failed');
          }
        },
        onComplete() {
          if (closed) return;
          cut = true;
          timer = setTimeout(connect, 1000);
        },
      });
    };
    connect();
    return () => {
      closed = true;
      if (timer) clearTimeout(timer);
      stop?.();
    };
  }, [client, query, key, opts.enabled]);

  return { status, error };
}

/** The current time, updated every `intervalMs` (for countdowns). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** Calls `fn` at most once per `ms`, trailing: bursts of live events become one reload. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      fnRef.current();
    }, ms);
  }, [ms]);
}
