/**
 * The agent of the fault suite: workers sending governed requests through the two ingress
 * replicas while faults happen, each attempt with an id of its own in the query string
 * (`tfreq=<id>`), so the books can be checked id by id against the audit and the upstreams.
 * A refused connection (the replica is down) is retried on the other replica as a new attempt,
 * as a client behind a load balancer would; nothing else is retried.
 */
import { ProxyAgent, request } from 'undici';

export type AttemptKind = 'read' | 'delete';

export interface Attempt {
  id: string;
  phase: string;
  kind: AttemptKind;
  replica: number;
  /** answered: an HTTP response; refused: no connection (never reached the gateway); broken: the connection failed after it was made. */
  result: 'answered' | 'refused' | 'broken';
  status?: number;
  contentType?: string;
  error?: string;
  /** performance.now() when it was sent. */
  startedAt: number;
  ms: number;
}

export interface Traffic {
  readonly attempts: Attempt[];
  /** Sends one request of each kind on each replica, outside any worker, and returns them. */
  probe(phase: string): Promise<Attempt[]>;
  stop(): Promise<void>;
}

export function urlFor(kind: AttemptKind, n: number, id: string): { method: string; url: string } {
  return kind === 'read'
    ? { method: 'GET', url: `https://api.stripe.com/v1/charges/ch_${n}?tfreq=${id}` }
    : { method: 'DELETE', url: `https://api.github.com/repos/acme/repo${n}?tfreq=${id}` };
}

const REFUSED = new Set(['ECONNREFUSED']);

export function startTraffic(o: { proxyUrls: string[]; caPem: string; workers: number; pauseMs: number; timeoutMs: number; phase: () => string }): Traffic {
  const agents = o.proxyUrls.map((uri) => new ProxyAgent({ uri, requestTls: { ca: o.caPem }, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs, keepAliveTimeout: 2000 }));
  const attempts: Attempt[] = [];
  let logical = 0;
  let stopped = false;
  let closing: Promise<void> | undefined;

  const once = async (kind: AttemptKind, n: number, replica: number, id: string, phase: string): Promise<Attempt> => {
    const { method, url } = urlFor(kind, n, id);
    const t0 = performance.now();
    const base = { id, phase, kind, replica, startedAt: t0 };
    try {
      const r = await request(url, { method, dispatcher: agents[replica]!, signal: AbortSignal.timeout(o.timeoutMs + 5000) });
      await r.body.text();
      const ct = r.headers['content-type'];
      return { ...base, result: 'answered', status: r.statusCode, contentType: Array.isArray(ct) ? ct[0] : ct, ms: performance.now() - t0 };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code ?? e.name;
      return { ...base, result: REFUSED.has(e.cause?.code ?? '') || REFUSED.has(e.code ?? '') ? 'refused' : 'broken', error: `${code}: ${e.message}`.slice(0, 200), ms: performance.now() - t0 };
    }
  };

  /** One logical request: on a refused connection, a new attempt on the next replica. */
  const send = async (phase: string, kind: AttemptKind, replica: number): Promise<Attempt[]> => {
    const n = ++logical;
    const out: Attempt[] = [];
    for (let a = 0; a < o.proxyUrls.length; a++) {
      const r = (replica + a) % o.proxyUrls.length;
      const attempt = await once(kind, n, r, `f${n}a${a}`, phase);
      out.push(attempt);
      attempts.push(attempt);
      if (attempt.result !== 'refused') break;
    }
    return out;
  };

  let counter = 0;
  const workers = Array.from({ length: o.workers }, async () => {
    while (!stopped) {
      const c = counter++;
      await send(o.phase(), c % 4 === 3 ? 'delete' : 'read', c % o.proxyUrls.length);
      await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  });

  return {
    attempts,
    async probe(phase) {
      const out: Attempt[] = [];
      for (let r = 0; r < o.proxyUrls.length; r++) for (const kind of ['read', 'delete'] as const) out.push(...(await send(phase, kind, r)));
      return out;
    },
    stop() {
      stopped = true;
      closing ??= Promise.all(workers).then(() => Promise.all(agents.map((a) => a.close()))).then(() => undefined);
      return closing;
    },
  };
}

/** What a governed answer should be for each kind: the read allowed (200), the delete denied (403). */
export function served(a: Attempt): boolean {
  return a.result === 'answered' && ((a.kind === 'read' && a.status === 200) || (a.kind === 'delete' && a.status === 403));
}
