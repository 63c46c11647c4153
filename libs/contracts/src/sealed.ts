import { Type, type Static } from '@sinclair/typebox';
import { CredentialInjectionSchema } from './action.ts';
import { Name, Strict, Text } from './schema.ts';

const B64 = (max: number) => Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: max });

/**
 * A value sealed to one recipient's X25519 public key: ECDH with the sender's key `epk`,
 * HKDF-SHA256 to an AES-256-GCM key, and additional authenticated data that names what the
 * value is for. Only the holder of the recipient's private key can open it, so it may cross
 * NATS even where every subject can be read.
 */
export const SealedBoxSchema = Type.Object(
  {
    alg: Type.Literal('X25519-HKDF-SHA256-A256GCM'),
    /** Sender's X25519 public key, raw 32 bytes, base64. */
    epk: B64(64),
    iv: B64(24),
    ct: B64(1_500_000),
    tag: B64(32),
  },
  Strict,
);
export type SealedBox = Static<typeof SealedBoxSchema>;

/** A credential released by the vault, sealed to the ingress instance that will inject it. */
export const SealedCredentialSchema = Type.Object(
  {
    secretName: Name,
    secretVersion: Type.Integer({ minimum: 1 }),
    injection: CredentialInjectionSchema,
    box: SealedBoxSchema,
  },
  Strict,
);
export type SealedCredential = Static<typeof SealedCredentialSchema>;

/** An ingress instance and the X25519 public key (raw, base64) it wants credentials sealed to. */
export const IngressKeySchema = Type.Object({ id: Text(100), publicKey: B64(64) }, Strict);
export type IngressKey = Static<typeof IngressKeySchema>;
