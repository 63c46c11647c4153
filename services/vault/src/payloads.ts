import {
  decoder,
  VaultMasterKeyRotateRequestSchema,
  VaultReleaseRequestSchema,
  VaultSecretListRequestSchema,
  VaultSecretPutRequestSchema,
  VaultSecretRevokeRequestSchema,
} from '@tameflare/contracts';


export const decodeRelease = decoder(VaultReleaseRequestSchema, 'vault release request');
export const decodePut = decoder(VaultSecretPutRequestSchema, 'secret put request');
const decodeListPayload = decoder(VaultSecretListRequestSchema, 'secret list request');
export const decodeList = (p: unknown) => decodeListPayload(p ?? {});
export const decodeRevoke = decoder(VaultSecretRevokeRequestSchema, 'secret revoke request');
export const decodeRotate = decoder(VaultMasterKeyRotateRequestSchema, 'master key rotation request');
