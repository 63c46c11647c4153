import { STATUS_CODES, type ServerResponse } from 'node:http';

/** Response headers the gateway sets on its own answers. */
export const GatewayHeaders = {
  requestId: 'x-tameflare-request-id',
  ingress: 'x-tameflare-ingress',
  killSwitch: 'x-tameflare-kill-switch',
  shouldRetry: 'x-should-retry',
} as const;

/** Problem types (RFC 9457 `type`), one per way the gateway answers instead of the upstream. */
export const ProblemTypes = {
  badRequest: 'urn:tameflare:problem:bad-request',
  proxyAuth: 'urn:tameflare:problem:proxy-authentication-required',
  policyDenied: 'urn:tameflare:problem:policy-denied',
  egressDenied: 'urn:tameflare:problem:egress-denied',
  killSwitch: 'urn:tameflare:problem:kill-switch',
  approvalDenied: 'urn:tameflare:problem:approval-denied',
  approvalExpired: 'urn:tameflare:problem:approval-expired',
  approvalNotPossible: 'urn:tameflare:problem:approval-not-possible',
  unavailable: 'urn:tameflare:problem:unavailable',
  upstreamError: 'urn:tameflare:problem:upstream-error',
  upstreamTimeout: 'urn:tameflare:problem:upstream-timeout',
  payloadTooLarge: 'urn:tameflare:problem:payload-too-large',
  misdirected: 'urn:tameflare:problem:misdirected-request',
} as const;

/** An RFC 9457 problem document with TameFlare's extension members. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The action type, e.g. `github.repo.delete`. */
  action?: string;
  /** The rule that decided, when one did. */
  rule?: string | null;
  reason?: string;
  /** Id of the recorded ActionDecided event. */
  decisionId?: string;
  actionId?: string;
  approvalId?: string;
  killSwitchId?: string;
  requestId?: string;
  /**
   * The same answer in the shape API SDKs read errors from (`error.type`, `error.message`):
   * stripe-node takes a 4xx body without an `error` member for a successful result, and the
   * OpenAI and Anthropic SDKs hand the agent only `error`. It repeats the extension members
   * (action, rule, reason, decision id) so an agent on an SDK still learns why.
   */
  error: { type: string; message: string; status: number } & Partial<Omit<Problem, 'type' | 'title' | 'detail' | 'status' | 'error'>>;
}

/** A gateway answer: status, problem body and extra headers. */
export interface GatewayAnswer {
  problem: Problem;
  headers?: Record<string, string>;
}

/** Builds a problem. `detail` should say what happened and what to do, in one sentence. */
export function problem(type: string, status: number, title: string, detail: string, extra: Partial<Problem> = {}): Problem {
  const short = type.slice(type.lastIndexOf(':') + 1).replace(/-/g, '_');
  const { error: _ignored, ...members } = extra;
  return { type, title, status, detail, ...members, error: { ...members, type: `tameflare_${short}`, message: detail, status } };
}

function headerList(p: Problem, body: Buffer, extra: Record<string, string> | undefined, requestId: string | undefined): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/problem+json',
    'content-length': String(body.length),
    'cache-control': 'no-store',
  };
  // SDKs (OpenAI, Anthropic) retry 408/409/429/5xx unless told not to; policy answers are final.
  if (p.status === 403 || p.status === 408 || p.status === 413 || p.status === 400 || p.status === 421) h[GatewayHeaders.shouldRetry] = 'false';
  if (requestId) h[GatewayHeaders.requestId] = requestId;
  return { ...h, ...extra };
}

/** Sends a problem on an HTTP response (never after headers were sent). */
export function sendProblem(res: ServerResponse, answer: GatewayAnswer, requestId?: string): void {
  const body = Buffer.from(JSON.stringify(answer.problem));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(answer.problem.status, headerList(answer.problem, body, answer.headers, requestId));
  res.end(body);
}

/** A whole HTTP/1.1 response carrying a problem, for raw sockets (CONNECT answers, parse errors). */
export function rawProblem(answer: GatewayAnswer, options: { close: boolean; requestId?: string }): Buffer {
  const body = Buffer.from(JSON.stringify(answer.problem));
  const headers = headerList(answer.problem, body, answer.headers, options.requestId);
  if (options.close) headers.connection = 'close';
  let head = `HTTP/1.1 ${answer.problem.status} ${STATUS_CODES[answer.problem.status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body]);
}
