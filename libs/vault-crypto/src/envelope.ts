import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { VaultErrorCode, vaultError } from './errors.ts';
import type { Keyring, MasterKey } from './master-key.ts';

/** What a stored ciphertext is bound to: moving it to another row makes it fail to decrypt. */
export interface SecretBinding {
  readonly gatewayId: string;
  readonly secretId: string;
  readonly version: number;
}

/** One secret version at rest. Both buffers are `format(1) | iv(12) | tag(16) | ciphertext`. */
export interface EncryptedSecret {
  /** The value under its data key. */
  readonly ciphertext: Buffer;
  /** The data key under the KEK of master key `masterKeyId`. */
  readonly wrappedKey: Buffer;
  readonly masterKeyId: string;
}

const FORMAT = 1;
const IV = 12;
const TAG = 16;
const HEADER = 1 + IV + TAG;

/** AAD of a secret value: its gateway, id and version. */
export function secretAad(b: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify(['tf-secret/v1', b.gatewayId, b.secretId, b.version]));
}

/** AAD of a wrapped data key: the master key id as well, so a key id cannot be swapped. */
function dataKeyAad(b: SecretBinding, masterKeyId: string): Buffer {
  return Buffer.from(JSON.stringify(['tf-dek/v1', masterKeyId, b.gatewayId, b.secretId, b.version]));
}

// A raw Buffer key costs node about 12 µs more per cipher than a KeyObject (measured, Node 24).
const asKey = (key: KeyObject | Buffer): KeyObject => (Buffer.isBuffer(key) ? createSecretKey(key) : key);

function gcmEncrypt(key: KeyObject | Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', asKey(key), iv);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), iv, c.getAuthTag(), body]);
}

/**
 * Decrypts and authenticates, or throws with nothing returned: GCM's `update` yields plaintext
 * before `final` has checked the tag, so that output is wiped when the check fails.
 */
function gcmDecrypt(key: KeyObject | Buffer, blob: Buffer, aad: Buffer, what: string): Buffer {
  if (blob.length < HEADER || blob[0] !== FORMAT) {
    throw vaultError(VaultErrorCode.DecryptFailed, `${what} is malformed (unknown format or truncated)`);
  }
  const d = createDecipheriv('aes-256-gcm', asKey(key), blob.subarray(1, 1 + IV));
  d.setAAD(aad);
  d.setAuthTag(blob.subarray(1 + IV, HEADER));
  const out = d.update(blob.subarray(HEADER));
  try {
    d.final();
  } catch (cause) {
    out.fill(0);
    throw vaultError(VaultErrorCode.DecryptFailed, `${what} does not authenticate`, { cause });
  }
  return out;
}

/** Encrypts one secret version under a fresh data key wrapped by the current master key. */
export function encryptSecret(value: Uint8Array, masterKey: MasterKey, binding: SecretBinding): EncryptedSecret {
  const dek = randomBytes(32);
  try {
    return {
      ciphertext: gcmEncrypt(dek, value, secretAad(binding)),
      wrappedKey: gcmEncrypt(masterKey.kek, dek, dataKeyAad(binding, masterKey.id)),
      masterKeyId: masterKey.id,
    };
  } finally {
    dek.fill(0);
  }
}

function unwrap(record: EncryptedSecret, keyring: Keyring, binding: SecretBinding): Buffer {
  const mk = keyring.get(record.masterKeyId);
  if (!mk) {
    throw vaultError(
      VaultErrorCode.MasterKeyUnknown,
      `secret ${binding.secretId} v${binding.version} was wrapped under master key ${record.masterKeyId}, which is not loaded (current ${keyring.current.id}); load it as a previous master key`,
      { details: { ...binding, masterKeyId: record.masterKeyId, current: keyring.current.id } },
    );
  }
  const dek = gcmDecrypt(
    mk.kek,
    record.wrappedKey,
    dataKeyAad(binding, mk.id),
    `data key of secret ${binding.secretId} v${binding.version} (wrong master key, or the wrapped key was tampered with or moved)`,
  );
  if (dek.length !== 32) {
    dek.fill(0);
    throw vaultError(VaultErrorCode.DecryptFailed, `data key of secret ${binding.secretId} v${binding.version} has the wrong length`);
  }
  return dek;
}

/**
 * Decrypts one secret version. Fails with `TF_ERR_VAULT_MASTER_KEY_UNKNOWN` when its master key is
 * not loaded, and `TF_ERR_VAULT_DECRYPT_FAILED` when anything was tampered with or the record is
 * read under another secret id, version or gateway. Never returns partial output.
 */
export function decryptSecret(record: EncryptedSecret, keyring: Keyring, binding: SecretBinding): Buffer {
  const dek = unwrap(record, keyring, binding);
  try {
    return gcmDecrypt(
      dek,
      record.ciphertext,
      secretAad(binding),
      `ciphertext of secret ${binding.secretId} v${binding.version} (tampered with, or moved from another secret, version or gateway)`,
    );
  } finally {
    dek.fill(0);
  }
}

/**
 * Re-wraps a data key under the keyring's current master key. The value's ciphertext is not
 * touched (nor decrypted): only the 32-byte data key passes through memory.
 */
export function rewrapDataKey(record: EncryptedSecret, keyring: Keyring, binding: SecretBinding): EncryptedSecret {
  if (record.masterKeyId === keyring.current.id) return record;
  const dek = unwrap(record, keyring, binding);
  try {
    return {
      ciphertext: record.ciphertext,
      wrappedKey: gcmEncrypt(keyring.current.kek, dek, dataKeyAad(binding, keyring.current.id)),
      masterKeyId: keyring.current.id,
    };
  } finally {
    dek.fill(0);
  }
}
