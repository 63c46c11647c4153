import type { CredentialInjection } from '@tameflare/contracts';
import { VaultErrorCode, vaultError } from './errors.ts';

/** Request headers as node's http module takes them; names in any case. */
export type HeaderMap = Record<string, string | string[] | number | undefined>;

/** The request to send upstream after injection. */
export interface InjectedRequest {
  readonly headers: HeaderMap;
  readonly url: URL;
}

// Headers a connector may never set: they frame or route the request.
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);
// What node's http accepts in a header value (lib/_http_common.js checkInvalidHeaderChar).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The value of `Authorization: Basic ...` for a rule: `username:secret`, else the secret as `user:password`, else `secret:` (Stripe style). */
export function basicCredential(rule: { username?: string | undefined }, secret: string): string {
  const pair = rule.username !== undefined ? `${rule.username}:${secret}` : secret.includes(':') ? secret : `${secret}:`;
  return Buffer.from(pair, 'utf8').toString('base64');
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Puts the real credential on an upstream request by the connector's rule, after REMOVING every
 * credential the agent sent: `Authorization`, `Proxy-Authorization`, the rule's custom header and
 * the rule's query parameter (every copy; header names in any case). Inputs are not modified.
 *
 * - `bearer`: `authorization: Bearer <secret>`
 * - `basic`: `authorization: Basic base64(username:secret)` (see {@link basicCredential})
 * - `header`: `<name>: <prefix><secret>`
 * - `query`: `?<name>=<secret, percent-encoded>`, appended; the rest of the query keeps its bytes
 *
 * @throws VaultError `TF_ERR_VAULT_INJECTION_INVALID` for a framing header or a value no header can carry.
 */
export function injectCredential(headers: HeaderMap, url: URL | string, rule: CredentialInjection, secret: string): InjectedRequest {
  const strip = new Set(['authorization', 'proxy-authorization']);
  if (rule.kind === 'header') {
    const name = rule.name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(name)) {
      throw vaultError(VaultErrorCode.InjectionInvalid, `a credential cannot be injected into the ${rule.name} header`, { details: { header: rule.name } });
    }
    strip.add(name);
  }
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !strip.has(k.toLowerCase())) out[k] = v;

  const target = new URL(typeof url === 'string' ? url : url.href);

  const headerValue = (value: string) => {
    if (!HEADER_VALUE.test(value)) {
      throw vaultError(VaultErrorCode.InjectionInvalid, `the secret cannot be carried in a header by rule ${rule.kind} (non-Latin-1 or control characters)`);
    }
    return value;
  };
  switch (rule.kind) {
    case 'bearer':
      out.authorization = headerValue(`Bearer ${secret}`);
      break;
    case 'basic':
      out.authorization = `Basic ${basicCredential(rule, secret)}`;
      break;
    case 'header':
      out[rule.name.toLowerCase()] = headerValue(`${rule.prefix ?? ''}${secret}`);
      break;
    case 'query': {
      const kept = target.search.slice(1).split('&').filter((p) => p !== '' && decodeName(p.split('=', 1)[0]!) !== rule.name);
      kept.push(`${encodeURIComponent(rule.name)}=${encodeURIComponent(secret)}`);
      target.search = `?${kept.join('&')}`;
      break;
    }
  }
  return { headers: out, url: target };
}
