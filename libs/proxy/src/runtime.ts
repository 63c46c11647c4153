import { Agent } from 'undici';
import { getCACertificates } from 'node:tls';
import { isIP } from 'node:net';
import { createCertificateCache, type CertificateCache } from './certificate-cache.ts';
import { createEgressGuard, type EgressGuard } from './egress.ts';
import { ProxyError, ProxyErrorCode } from './errors.ts';
import type { KillSwitchSubject } from './kill-switch-state.ts';
import type { KillSwitchEntry } from '@tameflare/contracts';
import type { ProxyLimits, ProxyLogger, ProxyServerOptions, ProxyTimeouts, Target } from './types.ts';

export const DEFAULT_TIMEOUTS: ProxyTimeouts = {
  clientHeadersMs: 30_000,
  clientKeepAliveMs: 30_000,
  clientTlsHandshakeMs: 10_000,
  upstreamConnectMs: 10_000,
  upstreamHeadersMs: 600_000,
  upstreamBodyIdleMs: 600_000,
  upstreamKeepAliveMs: 30_000,
  decisionMs: 10_000,
  approvalHoldMs: 300_000,
  tunnelIdleMs: 600_000,
};

export const DEFAULT_LIMITS: ProxyLimits = {
  maxHeaderBytes: 16 * 1024,
  parseBodyBytes: 1024 * 1024,
  maxRequestBodyBytes: Number.POSITIVE_INFINITY,
  maxTunnels: 4096,
  certificateCacheSize: 1000,
};

/** An upstream override: where requests for one host really go. */
export interface Override {
  origin: string;
  scheme: 'http' | 'https';
  address: string;
  port: number;
}

/** Something a kill switch can cut: an in-flight request, a tunnel, a WebSocket. */
export interface Cuttable {
  readonly subject: KillSwitchSubject;
  /** Cuts it; returns true when there was something to cut. */
  cut(entry: KillSwitchEntry): boolean;
}

/** Everything the handlers share, built once per server. */
export interface Runtime {
  readonly opts: ProxyServerOptions;
  readonly t: ProxyTimeouts;
  readonly l: ProxyLimits;
  readonly log: ProxyLogger;
  /** `ingress@<id>`, the source of every event. */
  readonly source: string;
  readonly certificates: CertificateCache;
  readonly egress: EgressGuard;
  readonly upstream: Agent;
  readonly overrideUpstream: Agent;
  readonly active: Set<Cuttable>;
  readonly allowedPorts: Set<number>;
  override(target: Target): Override | undefined;
  /** Set once the server listens, for the self-connection check. */
  listening: { address: string; port: number } | null;
}

const silent: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

function parseOverrides(map: Record<string, string> | undefined): Map<string, Override> {
  const out = new Map<string, Override>();
  for (const [key, value] of Object.entries(map ?? {})) {
    let u: URL;
    try {
      u = new URL(value);
    } catch (cause) {
      throw new ProxyError(ProxyErrorCode.Config, `upstream override for ${key} is not a URL: ${value}`, { cause });
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || (u.pathname !== '/' && u.pathname !== '') || u.search || u.username) {
      throw new ProxyError(ProxyErrorCode.Config, `upstream override for ${key} must be http(s)://host:port, got ${value}`);
    }
    const scheme = u.protocol === 'https:' ? 'https' : 'http';
    const address = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    out.set(key.toLowerCase(), { origin: u.origin, scheme, address, port: Number(u.port || (scheme === 'https' ? 443 : 80)) });
  }
  return out;
}

export function createRuntime(opts: ProxyServerOptions): Runtime {
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const l = { ...DEFAULT_LIMITS, ...opts.limits };
  const overrides = parseOverrides(opts.upstreamOverrides);
  const ca = opts.upstreamCa?.length ? [...getCACertificates('default'), ...opts.upstreamCa] : undefined;
  const rt: Runtime = {
    opts,
    t,
    l,
    log: opts.logger ?? silent,
    source: `ingress@${opts.ingressId}`,
    certificates: createCertificateCache({ ca: opts.ca, maxEntries: l.certificateCacheSize }),
    egress:
      opts.egress ??
      createEgressGuard({
        selfAddresses: () => (rt.listening ? [rt.listening] : []),
        ...(opts.egressRanges?.deny ? { denyCidrs: opts.egressRanges.deny } : {}),
        ...(opts.egressRanges?.allow ? { allowCidrs: opts.egressRanges.allow } : {}),
      }),
    upstream: undefined as unknown as Agent,
    overrideUpstream: undefined as unknown as Agent,
    active: new Set(),
    allowedPorts: new Set(opts.allowedPorts ?? [80, 443]),
    override(target) {
      if (overrides.size === 0) return undefined;
      const h = target.host.includes(':') ? `[${target.host}]` : target.host;
      return overrides.get(`${h}:${target.port}`) ?? overrides.get(h);
    },
    listening: null,
  };
  const agentOptions = {
    keepAliveTimeout: t.upstreamKeepAliveMs,
    keepAliveMaxTimeout: Math.max(t.upstreamKeepAliveMs, 600_000),
    headersTimeout: t.upstreamHeadersMs,
    bodyTimeout: t.upstreamBodyIdleMs,
    allowH2: opts.upstreamHttp2 ?? false,
    pipelining: 1,
  };
  (rt as { upstream: Agent }).upstream = new Agent({
    ...agentOptions,
    connect: { timeout: t.upstreamConnectMs, lookup: rt.egress.lookup, ...(ca ? { ca } : {}) },
  });
  (rt as { overrideUpstream: Agent }).overrideUpstream = new Agent({
    ...agentOptions,
    connect: { timeout: t.upstreamConnectMs, ...(ca ? { ca } : {}) },
  });
  for (const o of overrides.values()) {
    if (!isIP(o.address) && o.address !== 'localhost') {
      rt.log.warn({ override: o.origin }, 'upstream override names a host, not an address; it is resolved without the egress guard');
    }
  }
  return rt;
}
