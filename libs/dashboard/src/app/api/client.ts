import { apiError, classifyGraphQLError, classifyHttpStatus, isApiError, type ApiError, type GraphQLErrorShape } from './errors.ts';
import { createSseParser } from './sse.ts';

/** How the dashboard talks to the audit API: GraphQL over HTTP, subscriptions over SSE. */
export interface ApiClient {
  /** Runs a query or mutation. Rejects with an {@link ApiError}. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /**
   * Starts a subscription (GraphQL over SSE, distinct connections mode). `onNext` gets each
   * payload's `data`; `onError` gets the error that ended it. Returns a function that stops it.
   */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void;
}

export interface SubscriptionHandlers<T> {
  onOpen?(): void;
  onNext(data: T): void;
  onError(error: ApiError): void;
  onComplete?(): void;
}

export interface ApiClientOptions {
  endpoint: string;
  token: string;
  /** Called once when the API refuses the token, so the app can end the session. */
  onUnauthenticated?(error: ApiError): void;
  fetch?: typeof fetch;
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const headers = (accept: string) => ({ 'content-type': 'application/json', accept, authorization: `Bearer ${opts.token}` });
  const report = (e: ApiError) => {
    if (e.kind === 'unauthenticated') opts.onUnauthenticated?.(e);
    return e;
  };

  async function post(query: string, variables: Record<string, unknown> | undefined, accept: string, signal?: AbortSignal): Promise<Response> {
    try {
      return await doFetch(opts.endpoint, { method: 'POST', headers: headers(accept), body: JSON.stringify({ query, variables: variables ?? {} }), signal: signal ?? null, credentials: 'omit' });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw apiError('unreachable', cause instanceof Error && cause.message ? `no answer from ${opts.endpoint} (${cause.message})` : `no answer from ${opts.endpoint}`);
    }
  }

  return {
    async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const res = await post(query, variables, 'application/graphql-response+json, application/json');
      const text = await res.text().catch(() => '');
      let body: { data?: T | null; errors?: GraphQLErrorShape[] } | null = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (body && Array.isArray(body.errors) && body.errors.length > 0) throw report(classifyGraphQLError(res.status, body.errors));
      if (!res.ok || !body || body.data === undefined || body.data === null) throw report(classifyHttpStatus(res.status, text));
      return body.data;
    },

    subscribe<T>(query: string, variables: Record<string, unknown>, h: SubscriptionHandlers<T>): () => void {
      const abort = new AbortController();
      let done = false;
      const finish = (e: ApiError | null) => {
        if (done) return;
        done = true;
        if (e) h.onError(report(e));
        else h.onComplete?.();
      };
      (async () => {
        const res = await post(query, variables, 'text/event-stream', abort.signal);
        const type = res.headers.get('content-type') ?? '';
        if (!res.ok || !type.includes('text/event-stream') || !res.body) {
          const text = await res.text().catch(() => '');
          let parsed: { errors?: GraphQLErrorShape[] } | null = null;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = null;
          }
          finish(parsed?.errors?.length ? classifyGraphQLError(res.status, parsed.errors) : classifyHttpStatus(res.status, text));
          return;
        }
        h.onOpen?.();
        const parser = createSseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done: ended } = await reader.read();
          if (ended) break;
          for (const ev of parser.push(value)) {
            if (ev.event === 'complete') {
              finish(null);
              await reader.cancel().catch(() => undefined);
              return;
            }
            if (ev.event !== '' && ev.event !== 'next') continue;
            let payload: { data?: T; errors?: GraphQLErrorShape[] };
            try {
              payload = JSON.parse(ev.data);
            } catch {
              finish(apiError('server', 'the live feed sent something that is not JSON'));
              await reader.cancel().catch(() => undefined);
              return;
            }
            if (payload.errors?.length) {
              finish(classifyGraphQLError(200, payload.errors));
              await reader.cancel().catch(() => undefined);
              return;
            }
            if (payload.data !== undefined && !done) h.onNext(payload.data);
          }
        }
        finish(apiError('unreachable', 'the live feed was cut'));
      })().catch((e: unknown) => {
        if (abort.signal.aborted) return;
        finish(isApiError(e) ? e : apiError('unreachable', 'the live feed was cut'));
      });
      return () => {
        done = true;
        abort.abort();
      };
    },
  };
}
