import { isIP } from 'node:net';
import { isHostname } from './ca.ts';

/** A parsed destination: host (lower-case, IPv6 without brackets), port, and the path+query as sent. */
export interface ParsedTarget {
  host: string;
  port: number;
  /** `/path?query` exactly as the agent sent it. */
  pathAndQuery: string;
}

function parseHost(h: string): string | null {
  if (h.startsWith('[')) {
    if (!h.endsWith(']')) return null;
    const inner = h.slice(1, -1);
    return isIP(inner) === 6 ? inner.toLowerCase() : null;
  }
  if (isIP(h) === 4) return h;
  const lower = h.toLowerCase();
  return isHostname(lower) ? lower.replace(/\.$/, '') : null;
}

function parsePort(p: string | undefined, fallback: number | null): number | null {
  if (p === undefined || p === '') return fallback;
  if (!/^\d{1,5}$/.test(p)) return null;
  const n = Number(p);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Splits `host:port` / `[v6]:port`; the port is required when `defaultPort` is null. */
export function parseAuthority(authority: string, defaultPort: number | null): { host: string; port: number } | null {
  if (authority.length === 0 || authority.length > 300 || /[\s@/\\?#%]/.test(authority)) return null;
  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return null;
    hostPart = authority.slice(0, end + 1);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portPart = rest === '' ? undefined : rest.slice(1);
    if (rest === ':') return null;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') !== colon) return null;
    hostPart = colon >= 0 ? authority.slice(0, colon) : authority;
    portPart = colon >= 0 ? authority.slice(colon + 1) : undefined;
    if (colon >= 0 && portPart === '') return null;
  }
  const host = parseHost(hostPart);
  const port = parsePort(portPart, defaultPort);
  return host && port ? { host, port } : null;
}

/** Parses a CONNECT request target (authority-form, port required). */
export function parseConnectTarget(target: string): { host: string; port: number } | null {
  return parseAuthority(target, null);
}

const ABSOLUTE = /^(https?):\/\/([^/?#]*)([^#]*)$/i;

/** Parses an absolute-form request target (`http://host[:port]/path?q`); null when it is anything else. */
export function parseAbsoluteTarget(url: string): (ParsedTarget & { scheme: 'http' | 'https' }) | null {
  const m = ABSOLUTE.exec(url);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase() as 'http' | 'https';
  const auth = parseAuthority(m[2]!, scheme === 'https' ? 443 : 80);
  if (!auth) return null;
  const rest = m[3]!;
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return null;
  const pathAndQuery = rest === '' ? '/' : rest.startsWith('?') ? '/' + rest : rest;
  return { scheme, ...auth, pathAndQuery };
}

/** `host[:port]` for a Host header, leaving out the scheme's default port. */
export function hostHeader(host: string, port: number, scheme: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const dflt = scheme === 'https' || scheme === 'wss' ? 443 : 80;
  return port === dflt ? h : `${h}:${port}`;
}
