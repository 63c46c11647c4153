/**
 * The run token from a `Proxy-Authorization` header: `Basic` with the token as password (what a
 * proxy URL `http://tf:<token>@host:port` produces) or as user name, or `Bearer <token>`.
 * Returns null when the header is missing or malformed.
 */
export function proxyToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string' || header.length > 4096) return null;
  const sp = header.indexOf(' ');
  if (sp < 0) return null;
  const scheme = header.slice(0, sp).toLowerCase();
  const value = header.slice(sp + 1).trim();
  if (!value) return null;
  if (scheme === 'bearer') return /^[\x21-\x7e]+$/.test(value) ? value : null;
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+=*$/.test(value)) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  const token = pass || user;
  return token ? decodeURIComponentSafe(token) : null;
}

// Some clients percent-encode userinfo from the proxy URL; tokens never contain `%` themselves.
function decodeURIComponentSafe(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
