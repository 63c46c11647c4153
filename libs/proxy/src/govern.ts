import type { IncomingHttpHeaders } from 'node:http';
import { isTameFlareError, type EventEnvelope, type KillSwitchEntry } from '@tameflare/contracts';
import { buildCompleted, buildLocalDecision, buildRequested, type CompletedData, type RequestFacts } from './action-events.ts';
import { ProxyErrorCode } from './errors.ts';
import { GatewayHeaders, ProblemTypes, problem, type GatewayAnswer } from './problem.ts';
import type { Cuttable, Override, Runtime } from './runtime.ts';
import type { ReleasedCredential, DecideResult, Identity, Route, Target } from './types.ts';

export type Outcome = CompletedData['outcome'];

/** One request (or tunnel, or WebSocket) while it is governed and forwarded; what the kill switch cuts. */
export interface Flight extends Cuttable {
  /** The switch that cut it, once cut. */
  killed: KillSwitchEntry | null;
  /** Aborted when the agent goes away or a kill switch cuts it. */
  readonly abort: AbortController;
  /** Called by a cut once the request is being forwarded (aborts upstream, closes the agent's side). */
  onCut: (() => void) | null;
}

export function createFlight(rt: Runtime, identity: Identity, connector: string | null): Flight {
  const flight: Flight = {
    subject: { gatewayId: identity.gatewayId, agentId: identity.agentId, connector },
    killed: null,
    abort: new AbortController(),
    onCut: null,
    cut(entry) {
      if (flight.killed) return false;
      flight.killed = entry;
      flight.abort.abort(new Error('kill switch'));
      flight.onCut?.();
      return true;
    },
  };
  rt.active.add(flight);
  return flight;
}

/** One action from its ActionRequested to its single ActionCompleted. */
export interface ActionRun {
  readonly requested: EventEnvelope<'ActionRequested'>;
  decisionId: string | null;
  approvalId: string | null;
  readonly started: number;
  /** Publishes the ActionCompleted (once; later calls are ignored). */
  finish(outcome: Outcome, details: Partial<Omit<CompletedData, 'outcome'>>): void;
}

function createRun(rt: Runtime, requested: EventEnvelope<'ActionRequested'>, started: number): ActionRun & { after: Promise<unknown> } {
  let done = false;
  const run = {
    requested,
    decisionId: null as string | null,
    approvalId: null as string | null,
    started,
    // The completion is published after the request's own record settles, so it never overtakes it.
    after: Promise.resolve() as Promise<unknown>,
    finish(outcome: Outcome, d: Partial<Omit<CompletedData, 'outcome'>>) {
      if (done) return;
      done = true;
      let event;
      try {
        event = buildCompleted(
          requested,
          {
            outcome,
            status: d.status ?? null,
            forwarded: d.forwarded ?? false,
            bytesIn: d.bytesIn ?? 0,
            bytesOut: d.bytesOut ?? 0,
            upstreamMs: d.upstreamMs ?? null,
            totalMs: Math.max(0, performance.now() - started),
            credential: d.credential ?? null,
            approvalId: run.approvalId,
            redactions: d.redactions ?? 0,
            error: d.error ?? null,
          },
          { causationId: run.decisionId ?? requested.id, source: rt.source },
        );
      } catch (err) {
        rt.log.error({ err, actionId: requested.data.actionId }, 'cannot build ActionCompleted');
        return;
      }
      run.after
        .catch(() => undefined)
        .then(() => rt.opts.record(event))
        .catch((err: unknown) => rt.log.error({ err, actionId: requested.data.actionId }, 'ActionCompleted was not recorded'));
    },
  };
  return run;
}

export interface GovernInput {
  identity: Identity;
  target: Target;
  route: Route | null;
  method: string;
  url: URL;
  facts: RequestFacts;
  headers: IncomingHttpHeaders;
  body: Buffer | null;
  connectionId: string;
  actionId: string;
  started: number;
  flight: Flight;
}

export type Verdict =
  | { kind: 'forward'; run: ActionRun; credential: ReleasedCredential | null; override: Override | undefined }
  | { kind: 'answer'; run: ActionRun | null; answer: GatewayAnswer; outcome: Outcome };

const UNKNOWN_CONNECTOR = 'unknown';

function killAnswer(entry: KillSwitchEntry, extra: Record<string, unknown>): GatewayAnswer {
  return {
    problem: problem(ProblemTypes.killSwitch, 403, 'Stopped by the kill switch', `The kill switch is engaged: ${entry.reason}`, {
      reason: entry.reason,
      killSwitchId: entry.killSwitchId,
      ...extra,
    }),
    headers: { [GatewayHeaders.killSwitch]: 'active' },
  };
}

function unavailable(detail: string, extra: Record<string, unknown> = {}): GatewayAnswer {
  return { problem: problem(ProblemTypes.unavailable, 503, 'Gateway unavailable', detail, extra) };
}

class Timeout extends Error {}

function within<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Timeout(`no decision within ${ms} ms`)), ms);
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Governs one request: classification, ActionRequested, the ingress's own checks (kill switch,
 * egress), the recorded decision, and a hold for approval. Returns what to do: forward (only
 * with an allow whose ActionRequested record was acknowledged) or answer the agent.
 */
export async function govern(rt: Runtime, input: GovernInput): Promise<Verdict> {
  const { identity, target, route, flight } = input;
  const opts = rt.opts;
  let requested: EventEnvelope<'ActionRequested'>;
  try {
    const classification = route
      ? await opts.classify({
          method: input.method,
          url: input.url,
          pathAndQuery: input.facts.pathAndQuery,
          headers: input.headers,
          body: input.body,
          bodyTruncated: input.facts.bodyTruncated,
          route,
          identity,
        })
      : {
          action: {
            type: `http.${input.method.toLowerCase()}`,
            connector: UNKNOWN_CONNECTOR,
            resource: target.host,
            params: {},
            risk: 'write' as const,
            notes: ['unknown_destination'],
          },
          classifierVersion: 'none',
        };
    requested = buildRequested({
      actionId: input.actionId,
      identity,
      ingressId: opts.ingressId,
      source: rt.source,
      connectionId: input.connectionId,
      facts: input.facts,
      classification,
    });
  } catch (err) {
    rt.log.error({ err, host: target.host }, 'classification failed');
    return { kind: 'answer', run: null, answer: unavailable('The request could not be classified, so it was not forwarded.'), outcome: 'unavailable' };
  }
  const run = createRun(rt, requested, input.started);
  const action = requested.data.action.type;

  const localDeny = (decidedBy: 'kill_switch' | 'egress', reason: string, entry: KillSwitchEntry | null, answer: (decisionId: string) => GatewayAnswer): Verdict => {
    const decided = buildLocalDecision(requested, { decidedBy, reason, killSwitchId: entry?.killSwitchId ?? null, source: rt.source });
    run.decisionId = decided.id;
    run.after = Promise.allSettled([opts.record(requested), opts.record(decided)]).then((r) => {
      for (const x of r) if (x.status === 'rejected') rt.log.error({ err: x.reason, actionId: input.actionId }, `${decidedBy} denial was not recorded`);
    });
    return { kind: 'answer', run, answer: answer(decided.id), outcome: decidedBy === 'kill_switch' ? 'killed' : 'denied' };
  };
  const killDeny = (entry: KillSwitchEntry) =>
    localDeny('kill_switch', `kill switch engaged: ${entry.reason}`, entry, (decisionId) => killAnswer(entry, { action, decisionId, actionId: input.actionId }));
  const egressDeny = (reason: string) =>
    localDeny('egress', reason, null, (decisionId) => ({
      problem: problem(ProblemTypes.egressDenied, 403, 'Destination not allowed', reason, { action, reason, decisionId, actionId: input.actionId }),
    }));

  const ks = flight.killed ?? opts.killSwitch.match(flight.subject);
  if (ks) return killDeny(ks);
  if (!route) return egressDeny(`${target.host} is not a destination of any connector on gateway ${identity.gatewayId}`);
  const override = rt.override(target);
  if (!override) {
    if (!rt.allowedPorts.has(target.port)) return egressDeny(`port ${target.port} is not allowed`);
    try {
      await rt.egress.check(target.host, target.port);
    } catch (err) {
      if (isTameFlareError(err, ProxyErrorCode.EgressDenied)) return egressDeny(err.message);
      run.after = opts.record(requested);
      const detail = isTameFlareError(err) ? err.message : `cannot resolve ${target.host}`;
      return {
        kind: 'answer',
        run,
        answer: { problem: problem(ProblemTypes.upstreamError, 502, 'Destination unreachable', detail, { action, actionId: input.actionId }) },
        outcome: 'upstream_error',
      };
    }
  }

  // Recording the request and deciding run in parallel; forwarding needs both.
  const recordP = opts.record(requested);
  run.after = recordP;
  const decideP = opts.decide(requested);
  let result: DecideResult;
  try {
    [, result] = await within(Promise.all([recordP, decideP]), rt.t.decisionMs, flight.abort.signal);
  } catch (err) {
    if (flight.killed) return killDeny(flight.killed);
    if (flight.abort.signal.aborted) return { kind: 'answer', run, answer: unavailable('The agent went away.'), outcome: 'client_aborted' };
    rt.log.warn({ err, actionId: input.actionId }, 'no recorded decision; answering 503');
    if (isTameFlareError(err, 'TF_ERR_VAULT_SECRET_MISSING')) {
      // Configuration, not an outage: name the secret so the operator knows what to set.
      return { kind: 'answer', run, answer: unavailable(`${err.message}. Set it with \`tf secret set\`; the request was not forwarded.`, { action, actionId: input.actionId }), outcome: 'unavailable' };
    }
    const why = err instanceof Timeout ? 'No decision arrived in time' : 'The decision could not be obtained or recorded';
    return { kind: 'answer', run, answer: unavailable(`${why}, so the request was not forwarded. It is safe to retry.`, { action, actionId: input.actionId }), outcome: 'unavailable' };
  }
  const decided = result.decided;
  const d = decided.data;
  if (d.actionId !== input.actionId) {
    rt.log.error({ actionId: input.actionId, decidedFor: d.actionId }, 'decision for another action');
    return { kind: 'answer', run, answer: unavailable('The decision did not match the request.'), outcome: 'unavailable' };
  }
  run.decisionId = decided.id;
  const decisionExtra = { action, rule: d.decidingRule, reason: d.reason, decisionId: decided.id, actionId: input.actionId };

  let credential = result.credential;
  if (d.enforced && d.decision === 'deny') {
    return {
      kind: 'answer',
      run,
      answer: { problem: problem(ProblemTypes.policyDenied, 403, 'Denied by policy', `${action} was denied: ${d.reason}`, decisionExtra) },
      outcome: 'denied',
    };
  }
  if (d.enforced && d.decision === 'require_approval') {
    const held = await holdForApproval(rt, input, run, decided, result, decisionExtra);
    if (held.kind === 'answer') return held;
    credential = held.credential;
  }
  const late = flight.killed ?? opts.killSwitch.match(flight.subject);
  if (late) {
    flight.killed = late;
    return { kind: 'answer', run, answer: killAnswer(late, decisionExtra), outcome: 'killed' };
  }
  return { kind: 'forward', run, credential, override };
}

async function holdForApproval(
  rt: Runtime,
  input: GovernInput,
  run: ActionRun,
  decided: EventEnvelope<'ActionDecided'>,
  result: DecideResult,
  extra: Record<string, unknown>,
): Promise<{ kind: 'granted'; credential: ReleasedCredential | null } | Extract<Verdict, { kind: 'answer' }>> {
  const approval = result.approval;
  if (!approval) {
    return { kind: 'answer', run, answer: unavailable('Policy requires an approval but none was opened.', extra), outcome: 'unavailable' };
  }
  run.approvalId = approval.approvalId;
  const withApproval = { ...extra, approvalId: approval.approvalId };
  if (input.facts.bodyTruncated) {
    return {
      kind: 'answer',
      run,
      answer: {
        problem: problem(
          ProblemTypes.approvalNotPossible,
          403,
          'Cannot be approved',
          `This request needs an approval, but its body is larger than the ${rt.l.parseBodyBytes}-byte limit the gateway can hold and show to an approver.`,
          withApproval,
        ),
      },
      outcome: 'denied',
    };
  }
  const approvals = rt.opts.approvals;
  if (!approvals) return { kind: 'answer', run, answer: unavailable('Approvals are not available on this gateway.', withApproval), outcome: 'unavailable' };

  const hold = new AbortController();
  const expiresAt = Date.parse(approval.expiresAt);
  const deadline = Math.min(Number.isFinite(expiresAt) ? expiresAt : Infinity, Date.now() + rt.t.approvalHoldMs);
  const expired = new Timeout('approval hold expired');
  const timer = setTimeout(() => hold.abort(expired), Math.max(0, deadline - Date.now()));
  const onFlightAbort = () => hold.abort(input.flight.abort.signal.reason);
  input.flight.abort.signal.addEventListener('abort', onFlightAbort, { once: true });
  const expiredAnswer = (): Extract<Verdict, { kind: 'answer' }> => ({
    kind: 'answer',
    run,
    answer: {
      problem: problem(ProblemTypes.approvalExpired, 408, 'Approval expired', `No approval was given for ${String(extra.action)} in time.`, withApproval),
    },
    outcome: 'approval_expired',
  });
  try {
    const r = await new Promise<Awaited<ReturnType<typeof approvals.wait>>>((resolve, reject) => {
      hold.signal.addEventListener('abort', () => reject(hold.signal.reason), { once: true });
      approvals.wait({ requested: run.requested, decided, approval, signal: hold.signal }).then(resolve, reject);
    });
    if (r.status === 'granted') {
      if (!hold.signal.aborted) return { kind: 'granted', credential: r.credential };
    }
    if (r.status === 'denied') {
      return {
        kind: 'answer',
        run,
        answer: {
          problem: problem(ProblemTypes.approvalDenied, 403, 'Approval denied', `${String(extra.action)} was not approved: ${r.reason}`, {
            ...withApproval,
            reason: r.reason,
          }),
        },
        outcome: 'approval_denied',
      };
    }
    if (r.status === 'expired') return expiredAnswer();
  } catch (err) {
    if (!(err instanceof Timeout) && !input.flight.abort.signal.aborted) {
      rt.log.warn({ err, approvalId: approval.approvalId }, 'approval hold failed');
      return { kind: 'answer', run, answer: unavailable('The approval could not be followed.', withApproval), outcome: 'unavailable' };
    }
  } finally {
    clearTimeout(timer);
    input.flight.abort.signal.removeEventListener('abort', onFlightAbort);
  }
  if (input.flight.killed) return { kind: 'answer', run, answer: killAnswer(input.flight.killed, withApproval), outcome: 'killed' };
  if (input.flight.abort.signal.aborted) return { kind: 'answer', run, answer: unavailable('The agent went away.'), outcome: 'client_aborted' };
  return expiredAnswer();
}
