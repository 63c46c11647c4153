import { timingSafeEqual } from 'node:crypto';
import { ApiTokenEntrySchema, Buckets, sha256Hex, TameFlareError } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Principal } from './roles.ts';

/** Why a request was not authenticated. */
export const AuthErrorCode = {
  /** No `Authorization: Bearer` header, or one that is not a token. */
  Missing: 'TF_ERR_AUTH_MISSING',
  /** The token is unknown or revoked. */
  Invalid: 'TF_ERR_AUTH_INVALID',
  /** The token store (NATS KV) cannot be reached: fail closed. */
  Unavailable: 'TF_ERR_AUTH_UNAVAILABLE',
} as const;

export class AuthError extends TameFlareError {}

const entryCheck = TypeCompiler.Compile(ApiTokenEntrySchema);
const TOKEN = /^[A-Za-z0-9_\-.~+/=]{16,200}$/;

export interface Authenticator {
  /** The principal for an `Authorization` header value. @throws AuthError */
  authenticate(header: string | undefined | null): Promise<Principal>;
}

/**
 * API tokens: `Authorization: Bearer <token>`; the SHA-256 of the token is the key of its entry
 * (name and role) in KV `tf_api_tokens`, where the control service writes it on issue and deletes
 * it on revoke. One bootstrap admin token can be configured by its hash, to issue the first ones.
 * The token itself is never logged or stored.
 */
export function createAuthenticator(options: { bus: Bus; bootstrapAdminTokenSha256?: string | null }): Authenticator {
  const bootstrap = options.bootstrapAdminTokenSha256 ? Buffer.from(options.bootstrapAdminTokenSha256, 'hex') : null;
  return {
    async authenticate(header) {
      const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!m || !TOKEN.test(m[1]!)) {
        throw new AuthError(AuthErrorCode.Missing, 'authentication required: send Authorization: Bearer <API token>');
      }
      const hash = sha256Hex(m[1]!);
      if (bootstrap && bootstrap.length === 32 && timingSafeEqual(Buffer.from(hash, 'hex'), bootstrap)) {
        return { name: 'bootstrap-admin', role: 'admin', tokenId: null };
      }
      let entry: unknown;
      try {
        entry = (await (await options.bus.kv(Buckets.apiTokens)).get(hash))?.value ?? null;
      } catch (cause) {
        throw new AuthError(AuthErrorCode.Unavailable, 'cannot check the API token right now (the token store is unreachable)', { cause });
      }
      if (entry === null || !entryCheck.Check(entry)) throw new AuthError(AuthErrorCode.Invalid, 'unknown or revoked API token');
      return { name: entry.name, role: entry.role, tokenId: entry.tokenId };
    },
  };
}
