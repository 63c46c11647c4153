import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { buildOutbound, upstreamFor } from './forward-http.ts';
import { GatewayHeaders, ProblemTypes, problem, rawProblem } from './problem.ts';
import { relay, type RelayCounters } from './relay.ts';
import type { ActionRun, Flight } from './govern.ts';
import type { Override, Runtime } from './runtime.ts';
import type { ReleasedCredential, Route, Target } from './types.ts';

const DROP_ON_FINAL = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function responseHead(status: number, raw: (Buffer | string)[], keepUpgrade: boolean, requestId: string): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString();
    const lower = name.toLowerCase();
    if (!keepUpgrade && DROP_ON_FINAL.has(lower)) continue;
    if (keepUpgrade && (lower === 'keep-alive' || lower === 'proxy-connection')) continue;
    const value = typeof raw[i + 1] === 'string' ? (raw[i + 1] as string) : (raw[i + 1] as Buffer).toString('latin1');
    head += `${name}: ${value}\r\n`;
  }
  head += `${GatewayHeaders.requestId}: ${requestId}\r\n`;
  if (!keepUpgrade) head += 'connection: close\r\n';
  return Buffer.from(head + '\r\n', 'latin1');
}

export interface ForwardUpgradeInput {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  target: Target;
  pathAndQuery: string;
  route: Route | null;
  run: ActionRun;
  credential: ReleasedCredential | null;
  override: Override | undefined;
  flight: Flight;
  requestId: string;
}

/**
 * Forwards an allowed WebSocket handshake and, on 101, relays frames both ways until either side
 * closes. Any other answer from the upstream is passed to the agent and the connection closed.
 */
export function forwardUpgrade(rt: Runtime, input: ForwardUpgradeInput): void {
  const { socket, run, flight, credential } = input;
  const { dispatcher, origin } = upstreamFor(rt, input.target, input.override);
  const { path, headers } = buildOutbound(input.req.rawHeaders, input.target, input.pathAndQuery, input.route, credential, input.requestId);
  const credentialRef = credential ? { secretName: credential.secretName, secretVersion: credential.secretVersion } : null;
  const dispatched = performance.now();
  let controller: Dispatcher.DispatchController | null = null;
  let status: number | null = null;
  let bytesOut = 0;
  let finished = false;
  const done = (outcome: 'completed' | 'upstream_error' | 'client_aborted' | 'killed', extra: { bytesIn?: number; bytesOut?: number; error?: { code: string; message: string } | null }) => {
    if (finished) return;
    finished = true;
    rt.active.delete(flight);
    run.finish(outcome, {
      status,
      forwarded: true,
      bytesIn: extra.bytesIn ?? 0,
      bytesOut: extra.bytesOut ?? bytesOut,
      upstreamMs: performance.now() - dispatched,
      credential: credentialRef,
      error: extra.error ?? null,
    });
  };
  let upstreamSocket: Duplex | null = null;
  let counters: RelayCounters | null = null;
  flight.onCut = () => {
    done('killed', { bytesIn: counters?.bytesIn ?? 0, bytesOut: counters?.bytesOut ?? bytesOut, error: { code: 'TF_KILL_SWITCH', message: 'cut by the kill switch' } });
    controller?.abort(new Error('kill switch'));
    upstreamSocket?.destroy();
    socket.destroy();
  };
  socket.on('close', () => {
    if (!upstreamSocket && !finished) {
      controller?.abort(new Error('the agent closed the connection'));
      done('client_aborted', {});
    }
  });

  dispatcher.dispatch(
    { origin, path, method: 'GET', headers, body: null, upgrade: input.req.headers.upgrade ?? 'websocket', headersTimeout: rt.t.upstreamHeadersMs },
    {
      onRequestStart(c) {
        controller = c;
        if (finished) c.abort(new Error('the agent went away'));
      },
      onRequestUpgrade(c, statusCode, _headers, up) {
        status = statusCode;
        upstreamSocket = up;
        const raw = Array.isArray(c.rawHeaders) ? (c.rawHeaders as (Buffer | string)[]) : [];
        socket.write(responseHead(statusCode, raw, true, input.requestId));
        if (input.head.length) up.write(input.head);
        counters = relay(socket, up, {
          idleMs: rt.t.tunnelIdleMs,
          onClose: (counters, err) =>
            done('completed', { bytesIn: counters.bytesIn + input.head.length, bytesOut: counters.bytesOut, error: err ? { code: 'RELAY', message: err.message } : null }),
        });
      },
      onResponseStart(c, statusCode) {
        if (statusCode < 200) return;
        status = statusCode;
        const raw = Array.isArray(c.rawHeaders) ? (c.rawHeaders as (Buffer | string)[]) : [];
        socket.write(responseHead(statusCode, raw, false, input.requestId));
      },
      onResponseData(_c, chunk) {
        bytesOut += chunk.length;
        socket.write(chunk);
      },
      onResponseEnd() {
        socket.end();
        done('completed', {});
      },
      onResponseError(_c, err) {
        if (finished) return;
        const code = (err as { code?: string }).code ?? 'UPSTREAM_ERROR';
        if (status === null && socket.writable) {
          status = 502;
          socket.end(
            rawProblem(
              { problem: problem(ProblemTypes.upstreamError, 502, 'Upstream error', `${input.target.host} failed the WebSocket handshake: ${code}`, { actionId: run.requested.id }) },
              { close: true, requestId: input.requestId },
            ),
          );
        } else {
          socket.destroy();
        }
        done('upstream_error', { error: { code, message: err.message.slice(0, 1000) } });
      },
    },
  );
}
