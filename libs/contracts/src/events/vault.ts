import { Type } from '@sinclair/typebox';
import { Name, NonNegativeInt, Strict, Text, Uuid } from '../schema.ts';

/** Secret lifecycle events carry metadata only: never the value, never the ciphertext. */
const SecretRef = { secretId: Uuid, name: Name, gatewayId: Name };

export const SecretStoredV1 = Type.Object(
  {
    ...SecretRef,
    version: Type.Integer({ minimum: 1 }),
    byteLength: NonNegativeInt,
    source: Type.Union([Type.Literal('env'), Type.Literal('file'), Type.Literal('stdin'), Type.Literal('api')]),
    masterKeyId: Text(100),
    storedBy: Text(200),
  },
  Strict,
);
export const SecretRotatedV1 = Type.Object(
  {
    ...SecretRef,
    version: Type.Integer({ minimum: 2 }),
    previousVersion: Type.Integer({ minimum: 1 }),
    byteLength: NonNegativeInt,
    source: Type.Union([Type.Literal('env'), Type.Literal('file'), Type.Literal('stdin'), Type.Literal('api')]),
    masterKeyId: Text(100),
    rotatedBy: Text(200),
  },
  Strict,
);
export const SecretRevokedV1 = Type.Object({ ...SecretRef, revokedBy: Text(200) }, Strict);
export const MasterKeyRotatedV1 = Type.Object(
  { masterKeyId: Text(100), previousMasterKeyId: Text(100), rewrappedDataKeys: NonNegativeInt, rotatedBy: Text(200) },
  Strict,
);
