import type { CredentialInjection } from '@tameflare/contracts';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and proxy headers: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // undici frames the body itself and refuses `expect`; Node already answered 100-continue.
  'expect',
  'host',
]);

/** Header names listed in `Connection:` are hop-by-hop too. */
function connectionTokens(rawHeaders: string[]): Set<string> | null {
  let out: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 10 && rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const t of rawHeaders[i + 1]!.split(',')) {
        const n = t.trim().toLowerCase();
        if (n && n !== 'close' && n !== 'keep-alive') (out ??= new Set()).add(n);
      }
    }
  }
  return out;
}

/** The header an injected credential lives in (lower-case), or null for query injection. */
export function injectionHeader(injection: CredentialInjection | null): string | null {
  if (!injection) return null;
  switch (injection.kind) {
    case 'bearer':
    case 'basic':
      return 'authorization';
    case 'header':
      return injection.name.toLowerCase();
    case 'query':
      return null;
  }
}

/**
 * The headers to send upstream, as a flat name/value list in the agent's order and case:
 * without hop-by-hop and proxy headers, without whatever the agent put where the connector's
 * credential goes, with `host` set to the destination and a request id added.
 */
export function outboundRequestHeaders(
  rawHeaders: string[],
  options: { host: string; stripHeader: string | null; requestIdHeader: string; requestId: string; keepUpgrade?: boolean },
): string[] {
  const extra = connectionTokens(rawHeaders);
  const out: string[] = ['host', options.host];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower) || lower === options.stripHeader || lower === options.requestIdHeader) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  out.push(options.requestIdHeader, options.requestId);
  return out;
}

const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Response headers for the agent from undici's raw list: hop-by-hop removed, `content-length`
 * dropped when the body may change length (credential scrubbing).
 */
export function inboundResponseHeaders(raw: (Buffer | string)[], options: { dropContentLength: boolean }): string[] {
  const names: string[] = [];
  for (const v of raw) names.push(typeof v === 'string' ? v : v.toString('latin1'));
  const extra = connectionTokens(names);
  const out: string[] = [];
  for (let i = 0; i < names.length; i += 2) {
    const lower = names[i]!.toLowerCase();
    if (RESPONSE_DROP.has(lower) || extra?.has(lower)) continue;
    if (options.dropContentLength && lower === 'content-length') continue;
    out.push(names[i]!, names[i + 1]!);
  }
  return out;
}
