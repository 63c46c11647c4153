import { Type, type Static } from '@sinclair/typebox';
import { CredentialInjectionSchema } from '../action.ts';
import { Name, Strict, Text, Uuid } from '../schema.ts';
import { IngressKeySchema, SealedBoxSchema, SealedCredentialSchema } from '../sealed.ts';

/**
 * `tf.cmd.vault.release`: release the credential for an allowed action, sealed to the ingress
 * instance that will inject it. Only the policy and approval services may publish here (NATS
 * permissions); the vault records `CredentialReleased` before it replies.
 */
export const VaultReleaseRequestSchema = Type.Object(
  {
    actionId: Uuid,
    runId: Uuid,
    agentId: Name,
    gatewayId: Name,
    connector: Name,
    secretName: Name,
    injection: CredentialInjectionSchema,
    approvalId: Type.Union([Uuid, Type.Null()]),
    /** Id of the ActionDecided (or ApprovalConsumed) event that authorises this release. */
    authorizedBy: Uuid,
    ingress: IngressKeySchema,
  },
  Strict,
);
export type VaultReleaseRequest = Static<typeof VaultReleaseRequestSchema>;
export const VaultReleaseReplySchema = Type.Object({ credential: SealedCredentialSchema }, Strict);
export type VaultReleaseReply = Static<typeof VaultReleaseReplySchema>;

/** `tf.cmd.vault.public_key`: the vault's X25519 public key, for sealing a secret value to it. */
export const VaultPublicKeyReplySchema = Type.Object({ publicKey: Text(64), keyId: Text(100) }, Strict);
export type VaultPublicKeyReply = Static<typeof VaultPublicKeyReplySchema>;

/** `tf.cmd.vault.secret.put`: store (or rotate) a secret; the value arrives sealed to the vault key. */
export const VaultSecretPutRequestSchema = Type.Object(
  {
    gatewayId: Name,
    name: Name,
    box: SealedBoxSchema,
    source: Type.Union([Type.Literal('env'), Type.Literal('file'), Type.Literal('stdin'), Type.Literal('api')]),
    actor: Text(200),
    /** `rotate` refuses when the secret does not exist yet; `set` creates or rotates. */
    mode: Type.Union([Type.Literal('set'), Type.Literal('rotate')]),
  },
  Strict,
);
export type VaultSecretPutRequest = Static<typeof VaultSecretPutRequestSchema>;
export const VaultSecretPutReplySchema = Type.Object({ secretId: Uuid, name: Name, version: Type.Integer({ minimum: 1 }) }, Strict);
export type VaultSecretPutReply = Static<typeof VaultSecretPutReplySchema>;

/** Metadata of one secret; never its value. */
export const SecretMetadataSchema = Type.Object(
  {
    secretId: Uuid,
    gatewayId: Name,
    name: Name,
    version: Type.Integer({ minimum: 1 }),
    byteLength: Type.Integer({ minimum: 0 }),
    createdAt: Text(40),
    updatedAt: Text(40),
    revoked: Type.Boolean(),
  },
  Strict,
);
export type SecretMetadata = Static<typeof SecretMetadataSchema>;

/** `tf.cmd.vault.secret.list`: metadata of the secrets of one gateway (or all), never values. */
export const VaultSecretListRequestSchema = Type.Object({ gatewayId: Type.Optional(Name), includeRevoked: Type.Optional(Type.Boolean()) }, Strict);
export type VaultSecretListRequest = Static<typeof VaultSecretListRequestSchema>;
export const VaultSecretListReplySchema = Type.Object({ secrets: Type.Array(SecretMetadataSchema) }, Strict);
export type VaultSecretListReply = Static<typeof VaultSecretListReplySchema>;

/** `tf.cmd.vault.secret.revoke`: no version of the secret is released any more. */
export const VaultSecretRevokeRequestSchema = Type.Object({ gatewayId: Name, name: Name, actor: Text(200) }, Strict);
export type VaultSecretRevokeRequest = Static<typeof VaultSecretRevokeRequestSchema>;
export const VaultSecretRevokeReplySchema = Type.Object({ secretId: Uuid, name: Name, revoked: Type.Literal(true) }, Strict);
export type VaultSecretRevokeReply = Static<typeof VaultSecretRevokeReplySchema>;

/**
 * `tf.cmd.vault.master_key.rotate`: re-wrap every data key still under a previous master key
 * with the current one (the vault must have been started with the new key as current and the
 * old one as previous). Secret values are not decrypted.
 */
export const VaultMasterKeyRotateRequestSchema = Type.Object({ actor: Text(200) }, Strict);
export type VaultMasterKeyRotateRequest = Static<typeof VaultMasterKeyRotateRequestSchema>;
export const VaultMasterKeyRotateReplySchema = Type.Object(
  { masterKeyId: Text(100), previousMasterKeyIds: Type.Array(Text(100)), rewrappedDataKeys: Type.Integer({ minimum: 0 }) },
  Strict,
);
export type VaultMasterKeyRotateReply = Static<typeof VaultMasterKeyRotateReplySchema>;
