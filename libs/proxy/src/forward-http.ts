import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { isTameFlareError } from '@tameflare/contracts';
import { createSecretScrubber, injectCredential, type HeaderMap, type SecretScrubber } from '@tameflare/vault-crypto';
import { inboundResponseHeaders, injectionHeader, outboundRequestHeaders } from './headers.ts';
import { GatewayHeaders, ProblemTypes, problem, sendProblem } from './problem.ts';
import { hostHeader } from './target.ts';
import type { ActionRun, Flight } from './govern.ts';
import type { BodyPrefix } from './read-body.ts';
import type { Override, Runtime } from './runtime.ts';
import type { ReleasedCredential, Route, Target } from './types.ts';

class BodyTooLarge extends Error {}
class ClientGone extends Error {}

/** Where a request for `target` is dialled: the override, or the destination itself (through the egress lookup). */
export function upstreamFor(rt: Runtime, target: Target, override: Override | undefined): { dispatcher: Dispatcher; origin: string } {
  if (override) return { dispatcher: rt.overrideUpstream, origin: override.origin };
  const scheme = target.scheme === 'https' || target.scheme === 'wss' ? 'https' : 'http';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return { dispatcher: rt.upstream, origin: `${scheme}://${host}:${target.port}` };
}

/** Removes the query parameter a connector injects its credential into. */
function stripQueryParam(pathAndQuery: string, name: string): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const kept = pathAndQuery
    .slice(q + 1)
    .split('&')
    .filter((kv) => {
      const k = kv.split('=')[0]!;
      let decoded = k;
      try {
        decoded = decodeURIComponent(k.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return decoded !== name;
    });
  return pathAndQuery.slice(0, q) + (kept.length ? '?' + kept.join('&') : '');
}

/** A flat name/value list as a header map (duplicates become arrays), for the credential injector. */
function toHeaderMap(flat: string[]): HeaderMap {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? flat[i + 1]! : Array.isArray(prev) ? [...prev, flat[i + 1]!] : [prev, flat[i + 1]!];
  }
  return out;
}

/**
 * The outbound request target and headers: re-serialized from the parsed request (never the raw
 * bytes), hop-by-hop and proxy headers removed, the agent's own credential removed where the
 * connector injects one, and the released credential injected (libs/vault-crypto). With a
 * credential, the upstream is asked for an uncompressed body so the scrubber can see it.
 */
export function buildOutbound(
  rawHeaders: string[],
  target: Target,
  pathAndQuery: string,
  route: Route | null,
  credential: ReleasedCredential | null,
  requestId: string,
): { path: string; headers: string[] | HeaderMap } {
  const injection = route?.injection ?? null;
  const path = injection?.kind === 'query' ? stripQueryParam(pathAndQuery, injection.name) : pathAndQuery;
  const headers = outboundRequestHeaders(rawHeaders, {
    host: hostHeader(target.host, target.port, target.scheme),
    stripHeader: injectionHeader(injection),
    requestIdHeader: GatewayHeaders.requestId,
    requestId,
  });
  if (!credential) return { path, headers };
  const map = toHeaderMap(headers);
  map['accept-encoding'] = 'identity';
  const injected = injectCredential(map, new URL(`http://x${path}`), credential.injection, credential.value);
  const q = path.indexOf('?');
  return {
    path: credential.injection.kind === 'query' ? (q < 0 ? path : path.slice(0, q)) + injected.url.search : path,
    headers: injected.headers,
  };
}

/** Streams the rest of a request body after its inspected prefix, counting and capping it. */
async function* bodyStream(req: IncomingMessage, prefix: BodyPrefix, max: number, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for (const c of prefix.chunks) {
    counter.bytes += c.length;
    yield c;
  }
  for await (const chunk of req) {
    counter.bytes += (chunk as Buffer).length;
    if (counter.bytes > max) throw new BodyTooLarge(`request body over ${max} bytes`);
    yield chunk as Buffer;
  }
  if (!req.complete) throw new ClientGone('the agent closed the request before its body ended');
}

export interface ForwardHttpInput {
  req: IncomingMessage;
  res: ServerResponse;
  target: Target;
  pathAndQuery: string;
  route: Route | null;
  prefix: BodyPrefix;
  run: ActionRun;
  credential: ReleasedCredential | null;
  override: Override | undefined;
  flight: Flight;
  requestId: string;
}

/**
 * Forwards an allowed request with undici's dispatch API and streams the response back chunk by
 * chunk with backpressure (an SSE stream is never buffered), then records ActionCompleted.
 */
export function forwardHttp(rt: Runtime, input: ForwardHttpInput): void {
  const { req, res, run, credential, flight } = input;
  const { dispatcher, origin } = upstreamFor(rt, input.target, input.override);
  const { path, headers } = buildOutbound(req.rawHeaders, input.target, input.pathAndQuery, input.route, credential, input.requestId);
  const counter = { bytes: 0 };
  let body: Buffer | Readable | null = null;
  if (input.prefix.hasBody) {
    if (input.prefix.ended) {
      body = input.prefix.chunks.length === 1 ? input.prefix.chunks[0]! : Buffer.concat(input.prefix.chunks);
      counter.bytes = body.length;
    } else {
      body = Readable.from(bodyStream(req, input.prefix, rt.l.maxRequestBodyBytes, counter), { objectMode: false });
    }
  }
  const scrubber: SecretScrubber | null = credential ? createSecretScrubber(credential.value, credential.injection) : null;
  const scrubStream = scrubber?.body() ?? null;
  const credentialRef = credential ? { secretName: credential.secretName, secretVersion: credential.secretVersion } : null;
  const dispatched = performance.now();
  let controller: Dispatcher.DispatchController | null = null;
  let status: number | null = null;
  let bytesOut = 0;
  let finished = false;

  const done = (outcome: 'completed' | 'upstream_error' | 'client_aborted' | 'killed', error: { code: string; message: string } | null) => {
    if (finished) return;
    finished = true;
    rt.active.delete(flight);
    run.finish(outcome, {
      status,
      forwarded: true,
      bytesIn: counter.bytes,
      bytesOut,
      upstreamMs: performance.now() - dispatched,
      credential: credentialRef,
      redactions: scrubber?.redactions ?? 0,
      error,
    });
  };

  flight.onCut = () => {
    done('killed', { code: 'TF_KILL_SWITCH', message: 'cut by the kill switch' });
    controller?.abort(new Error('kill switch'));
    res.destroy();
  };
  res.on('close', () => {
    if (!res.writableFinished && !finished) {
      controller?.abort(new ClientGone('the agent closed the connection'));
      done('client_aborted', null);
    }
  });
  const onDrain = () => controller?.resume();

  dispatcher.dispatch(
    { origin, path, method: req.method!, headers, body, headersTimeout: rt.t.upstreamHeadersMs, bodyTimeout: rt.t.upstreamBodyIdleMs },
    {
      onRequestStart(c) {
        controller = c;
        if (finished) c.abort(new ClientGone('the request ended before it was sent'));
      },
      onResponseStart(c, statusCode, parsed) {
        if (statusCode < 200) return;
        status = statusCode;
        const raw = Array.isArray(c.rawHeaders) ? (c.rawHeaders as (Buffer | string)[]) : objectToRaw(parsed);
        const out = inboundResponseHeaders(raw, { dropContentLength: scrubber !== null });
        if (scrubber) for (let i = 1; i < out.length; i += 2) out[i] = scrubber.text(out[i]!);
        out.push(GatewayHeaders.requestId, input.requestId);
        res.writeHead(statusCode, out);
        if (scrubStream) {
          // The scrubber holds back at most a partial match, so streamed events are not delayed.
          scrubStream.on('data', (b: Buffer) => {
            if (!res.write(b)) {
              scrubStream.pause();
              res.once('drain', () => scrubStream.resume());
            }
          });
          scrubStream.on('drain', onDrain);
        }
      },
      onResponseData(c, chunk) {
        bytesOut += chunk.length;
        if (scrubStream) {
          if (!scrubStream.write(chunk)) c.pause();
          return;
        }
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', onDrain);
        }
      },
      onResponseEnd() {
        if (scrubStream) {
          scrubStream.once('end', () => {
            res.end();
            done('completed', null);
          });
          scrubStream.end();
          return;
        }
        res.end();
        done('completed', null);
      },
      onResponseError(_c, err) {
        if (finished) return;
        if (err instanceof BodyTooLarge) {
          status = 413;
          sendProblem(
            res,
            { problem: problem(ProblemTypes.payloadTooLarge, 413, 'Request body too large', `The body is larger than ${rt.l.maxRequestBodyBytes} bytes.`, { actionId: run.requested.id }) },
            input.requestId,
          );
          // The rest of the upload is not read; close so the connection cannot be reused mid-body.
          res.once('finish', () => req.socket.destroySoon());
          done('upstream_error', { code: 'TF_ERR_PROXY_BODY_TOO_LARGE', message: err.message });
          return;
        }
        if (err instanceof ClientGone || res.destroyed) {
          done('client_aborted', null);
          return;
        }
        const code = (err as { code?: string }).code ?? 'UPSTREAM_ERROR';
        const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
        const message = isTameFlareError(err) ? err.message : `${code}: ${err.message}`.slice(0, 1000);
        rt.log.warn({ code, host: input.target.host, actionId: run.requested.id }, 'upstream request failed');
        if (!res.headersSent) {
          status = timeout ? 504 : 502;
          sendProblem(
            res,
            {
              problem: problem(
                timeout ? ProblemTypes.upstreamTimeout : ProblemTypes.upstreamError,
                status,
                timeout ? 'Upstream timed out' : 'Upstream error',
                `${input.target.host} could not be reached or failed: ${message}`,
                { actionId: run.requested.id },
              ),
            },
            input.requestId,
          );
        } else {
          res.destroy();
        }
        done('upstream_error', { code, message });
      },
    },
  );
}

function objectToRaw(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, v);
  }
  return out;
}
