import { TameFlareError } from '@tameflare/contracts';

/**
 * Stable codes for every failure of the vault and its crypto. The ingress maps
 * `SecretMissing` to a 503 problem+json naming the secret; everything else is a gateway fault.
 */
export const VaultErrorCode = {
  /** The master key is missing, not base64, or not exactly 32 bytes. */
  MasterKeyInvalid: 'TF_ERR_VAULT_MASTER_KEY_INVALID',
  /** The master key file is readable by group or others (must be 0600 or stricter). */
  MasterKeyFileInsecure: 'TF_ERR_VAULT_MASTER_KEY_FILE_INSECURE',
  /** A data key was wrapped under a master key that is not loaded. */
  MasterKeyUnknown: 'TF_ERR_VAULT_MASTER_KEY_UNKNOWN',
  /** A ciphertext or wrapped data key does not authenticate: tampered, wrong key, or moved to another row. */
  DecryptFailed: 'TF_ERR_VAULT_DECRYPT_FAILED',
  /** A sealed box or public key is malformed. */
  SealInvalid: 'TF_ERR_VAULT_SEAL_INVALID',
  /** A sealed box does not open with this private key and AAD. */
  OpenFailed: 'TF_ERR_VAULT_OPEN_FAILED',
  /** A secret value is over the size limit. */
  SecretTooLarge: 'TF_ERR_VAULT_SECRET_TOO_LARGE',
  /** A secret value is empty, too short to redact safely, or holds characters no header can carry. */
  SecretInvalid: 'TF_ERR_VAULT_SECRET_INVALID',
  /** No usable (stored, not revoked) secret by that name on that gateway. */
  SecretMissing: 'TF_ERR_VAULT_SECRET_MISSING',
  /** An injection rule that cannot be applied safely (framing header, invalid value). */
  InjectionInvalid: 'TF_ERR_VAULT_INJECTION_INVALID',
} as const;
export type VaultErrorCodeValue = (typeof VaultErrorCode)[keyof typeof VaultErrorCode];

/** Any failure of the vault or its crypto. Messages and details never hold a secret value. */
export class VaultError extends TameFlareError {}

export function vaultError(code: VaultErrorCodeValue, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): VaultError {
  return new VaultError(code, message, options);
}
