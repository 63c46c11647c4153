import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4 } from 'node:net';
import type { LookupFunction } from 'node:net';
import { ProxyError, ProxyErrorCode } from './errors.ts';

/** Why an address is refused. */
export type BlockedReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'cgnat'
  | 'ipv6_embedded'
  | 'multicast'
  | 'reserved'
  | 'self'
  | 'denied_range';

/** An address that passed the checks, ready to dial. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

type Range = [string, number];

// Order matters: the first list that matches names the reason.
const RANGES: [BlockedReason, Range[], Range[]][] = [
  ['metadata', [['169.254.169.254', 32], ['100.100.100.200', 32]], [['fd00:ec2::254', 128]]],
  ['unspecified', [['0.0.0.0', 8]], [['::', 128]]],
  ['loopback', [['127.0.0.0', 8]], [['::1', 128]]],
  ['private', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]], [['fc00::', 7], ['fec0::', 10]]],
  ['link_local', [['169.254.0.0', 16]], [['fe80::', 10]]],
  ['cgnat', [['100.64.0.0', 10]], []],
  // IPv6 forms that embed an IPv4 address the other checks would not see: NAT64, 6to4, Teredo, IPv4-compatible.
  ['ipv6_embedded', [], [['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16], ['2001::', 32], ['::', 96]]],
  ['multicast', [['224.0.0.0', 4]], [['ff00::', 8]]],
  [
    'reserved',
    [
      ['192.0.0.0', 24],
      ['192.0.2.0', 24],
      ['198.18.0.0', 15],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
      ['240.0.0.0', 4],
    ],
    [['100::', 64], ['2001:db8::', 32], ['2001:2::', 48]],
  ],
];

const CLASSIFIERS: [BlockedReason, BlockList][] = RANGES.map(([reason, v4, v6]) => {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return [reason, list];
});

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), else the input. */
function unmap(address: string): string {
  const m = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1]!;
  const h = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (h) {
    const hi = parseInt(h[1]!, 16);
    const lo = parseInt(h[2]!, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return address;
}

/**
 * Why `address` must not be dialled, or null when it is a global unicast address. Covers
 * loopback, RFC 1918 and ULA, link-local (with cloud metadata), CGNAT, multicast, documentation
 * and benchmark ranges, and IPv6 embeddings of IPv4 (NAT64, 6to4, Teredo), as smokescreen does.
 */
export function blockedReason(address: string): BlockedReason | null {
  const a = unmap(address);
  const family = isIPv4(a) ? 'ipv4' : isIP(a) === 6 ? 'ipv6' : null;
  if (!family) return 'reserved';
  for (const [reason, list] of CLASSIFIERS) if (list.check(a, family)) return reason;
  return null;
}

export interface EgressGuardOptions {
  /** Resolver; default `dns.lookup(host, { all: true })` (honours /etc/hosts, like the agent would). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
  /** How long a checked resolution is reused. Default 5 s. */
  cacheMs?: number;
  /** DNS timeout. Default 5 s. */
  resolveTimeoutMs?: number;
  /** Extra ranges to refuse (CIDR strings), e.g. the corporate network. */
  denyCidrs?: string[];
  /** Ranges to allow even though they are private (use sparingly), e.g. an internal API. */
  allowCidrs?: string[];
  /** The proxy's own addresses (`host:port`), refused to prevent loops. */
  selfAddresses?: () => { address: string; port: number }[];
}

/** Resolve-once, check-every-address, dial-what-was-checked egress control. */
export interface EgressGuard {
  /**
   * Resolves `host` (or takes an IP literal), refuses when ANY address is blocked, and returns the
   * checked addresses (cached for `cacheMs`).
   *
   * @throws ProxyError `TF_ERR_PROXY_EGRESS_DENIED` (details: reason, address) or `TF_ERR_PROXY_DNS`.
   */
  check(host: string, port: number): Promise<CheckedAddress[]>;
  /** A `lookup` for `net.connect`/undici that returns only checked addresses. */
  readonly lookup: LookupFunction;
  /** Why this address is refused under this guard's configuration, or null. */
  reasonFor(address: string, port: number): BlockedReason | null;
}

function parseCidrs(cidrs: string[] | undefined): BlockList | null {
  if (!cidrs?.length) return null;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, len] = c.split('/');
    const family = isIP(net ?? '');
    const prefix = Number(len ?? (family === 6 ? 128 : 32));
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new ProxyError(ProxyErrorCode.Config, `invalid CIDR "${c}"`);
    }
    list.addSubnet(net!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Creates the egress guard used before a decision and again when a socket is dialled. */
export function createEgressGuard(options: EgressGuardOptions = {}): EgressGuard {
  const resolve = options.resolve ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));
  const cacheMs = options.cacheMs ?? 5000;
  const timeoutMs = options.resolveTimeoutMs ?? 5000;
  const deny = parseCidrs(options.denyCidrs);
  const allow = parseCidrs(options.allowCidrs);
  const cache = new Map<string, { addresses: CheckedAddress[]; expires: number }>();
  const inflight = new Map<string, Promise<CheckedAddress[]>>();

  const familyOf = (a: string) => (isIP(a) === 6 ? 'ipv6' : 'ipv4');
  const reasonFor = (address: string, port: number): BlockedReason | null => {
    const a = unmap(address);
    for (const s of options.selfAddresses?.() ?? []) {
      if (s.port === port && (unmap(s.address) === a || s.address === '0.0.0.0' || s.address === '::')) return 'self';
    }
    if (deny?.check(a, familyOf(a))) return 'denied_range';
    if (allow?.check(a, familyOf(a))) return null;
    return blockedReason(a);
  };

  const denied = (host: string, address: string, reason: BlockedReason) =>
    new ProxyError(ProxyErrorCode.EgressDenied, `${host} resolves to ${address}, a ${reason.replace('_', '-')} address`, {
      details: { host, address, reason },
    });

  const resolveChecked = async (host: string, port: number): Promise<CheckedAddress[]> => {
    let answers: { address: string; family: number }[];
    let timer: NodeJS.Timeout | undefined;
    try {
      answers = await Promise.race([
        resolve(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`DNS timeout after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (cause) {
      throw new ProxyError(ProxyErrorCode.Dns, `cannot resolve ${host}: ${(cause as Error).message}`, { cause, details: { host } });
    } finally {
      clearTimeout(timer);
    }
    if (answers.length === 0) throw new ProxyError(ProxyErrorCode.Dns, `${host} has no addresses`, { details: { host } });
    const out: CheckedAddress[] = [];
    for (const a of answers) {
      const reason = reasonFor(a.address, port);
      if (reason) throw denied(host, a.address, reason);
      out.push({ address: a.address, family: a.family === 6 ? 6 : 4 });
    }
    return out;
  };

  const check = async (host: string, port: number): Promise<CheckedAddress[]> => {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const literal = isIP(bare);
    if (literal) {
      const reason = reasonFor(bare, port);
      if (reason) throw denied(host, bare, reason);
      return [{ address: bare, family: literal === 6 ? 6 : 4 }];
    }
    const key = `${bare.toLowerCase()}:${port}`;
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.addresses;
    let p = inflight.get(key);
    if (!p) {
      p = resolveChecked(bare, port).then(
        (addresses) => {
          inflight.delete(key);
          cache.set(key, { addresses, expires: Date.now() + cacheMs });
          if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
          return addresses;
        },
        (err) => {
          inflight.delete(key);
          throw err;
        },
      );
      inflight.set(key, p);
    }
    return await p;
  };

  const lookup = ((hostname: string, opts: { all?: boolean; port?: number } | number | undefined, cb: (...args: unknown[]) => void) => {
    const o = typeof opts === 'object' && opts ? opts : {};
    // net.connect does not pass the port to lookup; the self check uses the port when it has it.
    check(hostname, o.port ?? 0).then(
      (addrs) => (o.all ? cb(null, addrs) : cb(null, addrs[0]!.address, addrs[0]!.family)),
      (err) => cb(err),
    );
  }) as unknown as LookupFunction;

  return { check, lookup, reasonFor };
}
