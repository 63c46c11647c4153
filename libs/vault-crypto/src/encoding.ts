import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { VaultErrorCode, vaultError, type VaultErrorCodeValue } from './errors.ts';

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical standard base64 only. `Buffer.from(s, 'base64')` silently skips junk, which
 * would turn a typo in a key into a different key.
 */
export function decodeBase64Strict(text: string, code: VaultErrorCodeValue, what: string): Buffer {
  if (!B64_RE.test(text)) throw vaultError(code, `${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

// DER headers of X25519 keys (RFC 8410): what precedes the raw 32 bytes.
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** An X25519 public key from its raw 32 bytes, base64. */
export function x25519PublicKey(rawBase64: string): KeyObject {
  const raw = decodeBase64Strict(rawBase64, VaultErrorCode.SealInvalid, 'X25519 public key');
  if (raw.length !== 32) throw vaultError(VaultErrorCode.SealInvalid, `X25519 public key must be 32 bytes, got ${raw.length}`);
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw vaultError(VaultErrorCode.SealInvalid, 'X25519 public key is not a valid point', { cause });
  }
}

/** An X25519 private key from 32 bytes of key material (clamped by X25519 itself). */
export function x25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, seed]), format: 'der', type: 'pkcs8' });
}

/** The raw 32 bytes of an X25519 public key, base64. */
export function rawPublicKey(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length).toString('base64');
}
