import { VaultErrorCode, vaultError } from './errors.ts';

/** Largest secret value the vault stores (bytes). API keys and tokens are far smaller. */
export const MAX_SECRET_BYTES = 16 * 1024;
/** Smallest: shorter values would make response scrubbing redact ordinary text. */
export const MIN_SECRET_BYTES = 8;

// C0 controls but HTAB, and DEL: no header can carry them and CR/LF could split a request.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a secret value before it is stored or injected: size limits, valid UTF-8, and no control
 * characters (CR, LF, NUL...), which no header can carry and which could split a request.
 *
 * @throws VaultError `TF_ERR_VAULT_SECRET_TOO_LARGE` or `TF_ERR_VAULT_SECRET_INVALID`. Messages
 * give sizes, never the value.
 */
export function validateSecretValue(value: Uint8Array, name = 'secret'): void {
  if (value.length > MAX_SECRET_BYTES) {
    throw vaultError(VaultErrorCode.SecretTooLarge, `${name} is ${value.length} bytes; the limit is ${MAX_SECRET_BYTES}`, {
      details: { name, byteLength: value.length, limit: MAX_SECRET_BYTES },
    });
  }
  if (value.length < MIN_SECRET_BYTES) {
    throw vaultError(VaultErrorCode.SecretInvalid, `${name} is ${value.length} bytes; the minimum is ${MIN_SECRET_BYTES}`, {
      details: { name, byteLength: value.length, minimum: MIN_SECRET_BYTES },
    });
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch (cause) {
    throw vaultError(VaultErrorCode.SecretInvalid, `${name} is not valid UTF-8`, { cause, details: { name } });
  }
  if (CONTROL.test(text)) {
    throw vaultError(VaultErrorCode.SecretInvalid, `${name} contains control characters (CR, LF, NUL...) that no HTTP header can carry`, {
      details: { name },
    });
  }
}
