import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '@tameflare/config';
import { TameFlareError } from '@tameflare/contracts';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type ProxyLimits, type ProxyTimeouts } from '@tameflare/proxy';

/**
 * The ingress's own settings, `TF_INGRESS_*` (see docs/ingress.md). Timeouts are durations
 * (`500ms`, `30s`, `10m`); lists are comma-separated.
 */
export const IngressSettingsSchema = Type.Object({
  /** Where agents reach the proxy (`tf run` points HTTP(S)_PROXY here). */
  host: Type.String({ default: '127.0.0.1', minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 9480 }),
  /** The proxy URL other tools should use (recorded in `tf_instances`); default http://host:port. */
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Directory holding the interception CA (`ca.key.pem` 0600, `ca.cert.pem`). Default ~/.tameflare/ingress. */
  stateDir: Type.Optional(Type.String({ minLength: 1 })),
  /** After this long without NATS the ingress fails closed (503) instead of trusting stale kill-switch state. */
  controlPlaneGraceMs: Duration({ default: 30_000 }),
  /** Heartbeat into `tf_instances` (the bucket TTL is 15 s). */
  heartbeatMs: Duration({ default: 5000, minimum: 500 }),
  /** How long a decision (JetStream ack and policy reply together) may take before 503. */
  decisionTimeoutMs: Duration({ default: DEFAULT_TIMEOUTS.decisionMs }),
  /** How often a held request polls `tf.cmd.approval.status` besides watching approval events. */
  approvalPollMs: Duration({ default: 3000, minimum: 100 }),
  approvalHoldMs: Duration({ default: DEFAULT_TIMEOUTS.approvalHoldMs }),
  clientHeadersMs: Duration({ default: DEFAULT_TIMEOUTS.clientHeadersMs }),
  clientKeepAliveMs: Duration({ default: DEFAULT_TIMEOUTS.clientKeepAliveMs }),
  upstreamConnectMs: Duration({ default: DEFAULT_TIMEOUTS.upstreamConnectMs }),
  upstreamHeadersMs: Duration({ default: DEFAULT_TIMEOUTS.upstreamHeadersMs }),
  upstreamBodyIdleMs: Duration({ default: DEFAULT_TIMEOUTS.upstreamBodyIdleMs }),
  tunnelIdleMs: Duration({ default: DEFAULT_TIMEOUTS.tunnelIdleMs }),
  /** Body bytes read to classify, digest and hold a request (and the classifier's parse limit). */
  parseBodyBytes: Type.Integer({ minimum: 1024, default: DEFAULT_LIMITS.parseBodyBytes }),
  /** Largest request body forwarded (0: no limit). */
  maxRequestBodyBytes: Type.Integer({ minimum: 0, default: 0 }),
  maxHeaderBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: DEFAULT_LIMITS.maxHeaderBytes }),
  maxTunnels: Type.Integer({ minimum: 1, default: DEFAULT_LIMITS.maxTunnels }),
  /** Destination ports agents may reach. */
  allowedPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { default: [80, 443] }),
  /**
   * `host=http(s)://address:port` pairs (host may be `host:port`): the only way to reach a
   * private or loopback address, for staging and tests.
   */
  upstreamOverrides: Type.Array(Type.String({ pattern: '^[^=\\s]+=https?://\\S+$' }), { default: [] }),
  /** PEM files of extra CAs trusted for upstream TLS. */
  upstreamCaFiles: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** Extra address ranges to refuse (CIDR). */
  denyCidrs: Type.Array(Type.String(), { default: [] }),
  /** Private ranges agents may reach anyway (CIDR; use sparingly). */
  allowCidrs: Type.Array(Type.String(), { default: [] }),
  /** Use HTTP/2 to upstreams that offer it. */
  upstreamHttp2: Type.Boolean({ default: false }),
});
export type IngressSettings = Static<typeof IngressSettingsSchema>;

export const IngressErrorCode = {
  /** A setting names something that cannot be used (an unreadable CA file). */
  Config: 'TF_ERR_INGRESS_CONFIG',
} as const;

/** Settings that cannot be used as given. */
export class IngressConfigError extends TameFlareError {}

export function stateDirOf(s: IngressSettings): string {
  return s.stateDir ?? join(homedir(), '.tameflare', 'ingress');
}

/** `host=url` pairs as the proxy's override map. */
export function overridesOf(s: IngressSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.upstreamOverrides) {
    const i = pair.indexOf('=');
    out[pair.slice(0, i).toLowerCase()] = pair.slice(i + 1);
  }
  return out;
}

export function upstreamCaOf(s: IngressSettings): string[] {
  return s.upstreamCaFiles.map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (cause) {
      throw new IngressConfigError(IngressErrorCode.Config, `TF_INGRESS_UPSTREAM_CA_FILES: cannot read ${f}`, { cause });
    }
  });
}

export function timeoutsOf(s: IngressSettings): ProxyTimeouts {
  return {
    ...DEFAULT_TIMEOUTS,
    clientHeadersMs: s.clientHeadersMs,
    clientKeepAliveMs: s.clientKeepAliveMs,
    upstreamConnectMs: s.upstreamConnectMs,
    upstreamHeadersMs: s.upstreamHeadersMs,
    upstreamBodyIdleMs: s.upstreamBodyIdleMs,
    decisionMs: s.decisionTimeoutMs,
    approvalHoldMs: s.approvalHoldMs,
    tunnelIdleMs: s.tunnelIdleMs,
  };
}

export function limitsOf(s: IngressSettings): ProxyLimits {
  return {
    ...DEFAULT_LIMITS,
    parseBodyBytes: s.parseBodyBytes,
    maxRequestBodyBytes: s.maxRequestBodyBytes === 0 ? Number.POSITIVE_INFINITY : s.maxRequestBodyBytes,
    maxHeaderBytes: s.maxHeaderBytes,
    maxTunnels: s.maxTunnels,
  };
}
