import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  ContractError,
  ContractErrorCode,
  VaultMasterKeyRotateRequestSchema,
  VaultReleaseRequestSchema,
  VaultSecretListRequestSchema,
  VaultSecretPutRequestSchema,
  VaultSecretRevokeRequestSchema,
} from '@tameflare/contracts';

/** A decoder for `serve({ decode })`: checks the payload against its schema, naming the first bad path. */
function decoder<S extends TSchema>(schema: S, what: string): (payload: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (payload) => {
    if (check.Check(payload)) return payload;
    const e = check.Errors(payload).First();
    throw new ContractError(ContractErrorCode.Schema, `invalid ${what} request at ${e?.path || '/'}: ${e?.message ?? 'invalid'}`);
  };
}

export const decodeRelease = decoder(VaultReleaseRequestSchema, 'vault release');
export const decodePut = decoder(VaultSecretPutRequestSchema, 'secret put');
export const decodeList = (p: unknown) => decoder(VaultSecretListRequestSchema, 'secret list')(p ?? {});
export const decodeRevoke = decoder(VaultSecretRevokeRequestSchema, 'secret revoke');
export const decodeRotate = decoder(VaultMasterKeyRotateRequestSchema, 'master key rotation');
