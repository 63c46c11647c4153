import type { IncomingHttpHeaders } from 'node:http';
import type { Action, CredentialInjection, EventEnvelope, KillSwitchEntry, TameFlareEvent } from '@tameflare/contracts';
import type { CertificateAuthority } from './ca.ts';
import type { EgressGuard } from './egress.ts';
import type { KillSwitchSubject } from './kill-switch-state.ts';

/** The agent run a request belongs to, found from its `Proxy-Authorization` token. */
export interface Identity {
  runId: string;
  agentId: string;
  agentName: string;
  gatewayId: string;
}

/** Where the agent is trying to go. `host` is lower-case, IPv6 without brackets. */
export interface Target {
  scheme: 'http' | 'https' | 'ws' | 'wss';
  host: string;
  port: number;
}

/** How a known destination is handled: which connector it belongs to and whether TLS is intercepted. */
export interface Route {
  connector: string;
  /**
   * True (the default for governed APIs): TLS is intercepted and every request is an action.
   * False: the CONNECT tunnel itself is one action, relayed without inspection when allowed.
   */
  intercept: boolean;
  /** Where the connector's credential goes; whatever the agent put there is stripped. */
  injection: CredentialInjection | null;
}

/** What the classifier sees: the request with at most the parse limit of its body. */
export interface ClassifyInput {
  method: string;
  /** The destination as a URL (its path normalized by WHATWG rules: use `pathAndQuery` for the exact path). */
  url: URL;
  /** `/path?query` exactly as the agent sent it and as it is forwarded. */
  pathAndQuery: string;
  headers: IncomingHttpHeaders;
  /** The body, or its first `limits.parseBodyBytes` bytes; null when there is none. */
  body: Buffer | null;
  bodyTruncated: boolean;
  route: Route;
  identity: Identity;
}

export interface Classification {
  action: Action;
  classifierVersion: string;
}

/**
 * A credential released for one action, unsealed by the service. The engine injects it with
 * `injectCredential` and scrubs it from the response with `createSecretScrubber`
 * (libs/vault-crypto); it never logs, records or returns it.
 */
export interface ReleasedCredential {
  secretName: string;
  secretVersion: number;
  injection: CredentialInjection;
  value: string;
}

/** An approval the decision is waiting on. */
export interface PendingApproval {
  approvalId: string;
  /** `granted`: an identical request was already approved and may be claimed once. */
  status: 'pending' | 'granted';
  expiresAt: string;
}

/** The policy service's answer, as the engine uses it. */
export interface DecideResult {
  /** The recorded decision (its id is the decision id the agent sees). */
  decided: EventEnvelope<'ActionDecided'>;
  credential: ReleasedCredential | null;
  approval: PendingApproval | null;
}

export interface ApprovalWaitInput {
  requested: EventEnvelope<'ActionRequested'>;
  decided: EventEnvelope<'ActionDecided'>;
  approval: PendingApproval;
  /** Aborted when the hold times out, the agent gives up or a kill switch cuts the request. */
  signal: AbortSignal;
}

export type ApprovalResult =
  | { status: 'granted'; credential: ReleasedCredential | null }
  | { status: 'denied'; reason: string; deniedBy: string | null }
  | { status: 'expired' };

/** Holds a request until its approval is decided (wired to the approval service by the ingress). */
export interface ApprovalHold {
  wait(input: ApprovalWaitInput): Promise<ApprovalResult>;
}

/** The subset of pino the engine logs through. Nothing logged ever holds a credential or token. */
export interface ProxyLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProxyTimeouts {
  /** Time for an agent to send a request's headers. Default 30 s. */
  clientHeadersMs: number;
  /** Idle keep-alive connections from agents are closed after this. Default 30 s. */
  clientKeepAliveMs: number;
  /** TLS handshake with an agent inside CONNECT. Default 10 s. */
  clientTlsHandshakeMs: number;
  /** Connecting to an upstream (TCP and TLS). Default 10 s. */
  upstreamConnectMs: number;
  /** Waiting for an upstream's response headers. Default 10 min, as LLM SDKs wait. */
  upstreamHeadersMs: number;
  /** Longest silence between two chunks of an upstream body (SSE streams). Default 10 min. */
  upstreamBodyIdleMs: number;
  /** Upstream keep-alive connections idle longer than this are closed. Default 30 s. */
  upstreamKeepAliveMs: number;
  /** Recording ActionRequested and getting a decision, together. Default 10 s, then 503. */
  decisionMs: number;
  /** Longest hold for require_approval (capped by the approval's own expiry). Default 5 min, then 408. */
  approvalHoldMs: number;
  /** A tunnel or WebSocket with no traffic either way is closed after this. Default 10 min. */
  tunnelIdleMs: number;
}

export interface ProxyLimits {
  /** Request header bytes an agent may send. Default 16 KiB. */
  maxHeaderBytes: number;
  /** Body bytes read for classification, digests and approval holds. Default 1 MiB. */
  parseBodyBytes: number;
  /** Largest request body forwarded; larger gets 413. Default unlimited. */
  maxRequestBodyBytes: number;
  /** Concurrent CONNECT tunnels and intercepted connections. Default 4096; more get 503. */
  maxTunnels: number;
  /** TLS contexts kept for intercepted hosts. Default 1000. */
  certificateCacheSize: number;
}

/** The pipeline steps and settings the service wires into the engine. */
export interface ProxyServerOptions {
  /** This replica's id: on every event it produces, and in `x-tameflare-ingress` on every answer it gives itself. */
  ingressId: string;
  ca: CertificateAuthority;
  /** Finds the run a `Proxy-Authorization` token belongs to; null means 407. */
  authenticate(token: string): Identity | null | Promise<Identity | null>;
  /** Maps a destination to its connector; null means an unknown domain (denied by the egress guard). */
  route(target: Target, identity: Identity): Route | null;
  /** Turns a request into an action (libs/connectors, or {@link genericClassify}). */
  classify(input: ClassifyInput): Classification | Promise<Classification>;
  /** Durably records an event; resolves when it is stored (the JetStream ack). */
  record(event: TameFlareEvent): Promise<void>;
  /** Asks for a decision on `requested` (the policy service). Rejects when it cannot be had. */
  decide(requested: EventEnvelope<'ActionRequested'>): Promise<DecideResult>;
  /** Holds require_approval requests; without it they are answered 503. */
  approvals?: ApprovalHold;
  /** The engaged kill switches. */
  killSwitch: { match(subject: KillSwitchSubject): KillSwitchEntry | null };
  /** A reason the gateway cannot decide anything right now (control plane lost), or null. */
  available?(): string | null;
  /** Egress guard; by default one with the built-in deny ranges that also refuses the proxy's own address. */
  egress?: EgressGuard;
  /** Extra ranges (CIDR) for the default egress guard: refused, or allowed although private. */
  egressRanges?: { deny?: string[]; allow?: string[] };
  /**
   * Per-host upstream overrides, `host` or `host:port` → `http(s)://address:port`, for staging and
   * tests. The only way to reach a private or loopback address; TLS to an https override is
   * verified against the original host name.
   */
  upstreamOverrides?: Record<string, string>;
  /** Extra CA certificates (PEM) trusted for upstream TLS, on top of Node's roots. */
  upstreamCa?: string[];
  /** Destination ports agents may reach. Default 80 and 443 (plus any override's port). */
  allowedPorts?: number[];
  /** Use HTTP/2 to upstreams that offer it. Default false. */
  upstreamHttp2?: boolean;
  timeouts?: Partial<ProxyTimeouts>;
  limits?: Partial<ProxyLimits>;
  logger?: ProxyLogger;
}
