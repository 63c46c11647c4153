import { connect, type Socket } from 'node:net';
import { ProblemTypes, problem, rawProblem } from './problem.ts';
import { relay, type RelayCounters } from './relay.ts';
import type { ActionRun, Flight } from './govern.ts';
import type { Override, Runtime } from './runtime.ts';
import type { Target } from './types.ts';

/**
 * Relays an allowed CONNECT without interception: dials the destination through the egress
 * lookup (or its override), answers 200 and pipes bytes both ways. ActionCompleted is recorded
 * when the tunnel closes, with the bytes each way.
 */
export function relayTunnel(
  rt: Runtime,
  input: { client: Socket; head: Buffer; target: Target; override: Override | undefined; run: ActionRun; flight: Flight; requestId: string },
): void {
  const { client, run, flight } = input;
  const o = input.override;
  const dialled = performance.now();
  const up = o
    ? connect({ host: o.address, port: o.port, timeout: rt.t.upstreamConnectMs })
    : connect({ host: input.target.host, port: input.target.port, lookup: rt.egress.lookup, timeout: rt.t.upstreamConnectMs });
  up.setNoDelay(true);
  let finished = false;
  let counters: RelayCounters | null = null;
  const done = (outcome: 'completed' | 'upstream_error' | 'killed' | 'client_aborted', d: { status: number | null; bytesIn: number; bytesOut: number; error: { code: string; message: string } | null }) => {
    if (finished) return;
    finished = true;
    rt.active.delete(flight);
    run.finish(outcome, { ...d, forwarded: d.status === 200, upstreamMs: performance.now() - dialled });
  };
  flight.onCut = () => {
    done('killed', { status: 200, bytesIn: counters?.bytesIn ?? 0, bytesOut: counters?.bytesOut ?? 0, error: { code: 'TF_KILL_SWITCH', message: 'cut by the kill switch' } });
    up.destroy();
    client.destroy();
  };
  const fail = (err: Error) => {
    if (finished) return;
    up.destroy();
    const code = (err as { code?: string }).code ?? 'CONNECT_FAILED';
    if (client.writable) {
      client.end(
        rawProblem(
          { problem: problem(ProblemTypes.upstreamError, 502, 'Upstream error', `${input.target.host}:${input.target.port} could not be reached: ${err.message}`, { actionId: run.requested.id }) },
          { close: true, requestId: input.requestId },
        ),
      );
    }
    done('upstream_error', { status: 502, bytesIn: 0, bytesOut: 0, error: { code, message: err.message.slice(0, 1000) } });
  };
  up.once('error', fail);
  up.once('timeout', () => fail(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })));
  client.once('close', () => {
    if (!up.connecting) return;
    up.destroy();
    done('client_aborted', { status: null, bytesIn: 0, bytesOut: 0, error: null });
  });
  up.once('connect', () => {
    up.off('error', fail);
    up.setTimeout(0);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (input.head.length) up.write(input.head);
    counters = relay(client, up, {
      idleMs: rt.t.tunnelIdleMs,
      onClose: (c, err) =>
        done('completed', { status: 200, bytesIn: c.bytesIn + input.head.length, bytesOut: c.bytesOut, error: err ? { code: 'RELAY', message: err.message } : null }),
    });
  });
}
