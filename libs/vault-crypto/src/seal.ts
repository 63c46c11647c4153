import { createCipheriv, createDecipheriv, createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { SealedBox } from '@tameflare/contracts';
import { decodeBase64Strict, rawPublicKey, x25519PublicKey } from './encoding.ts';
import { VaultErrorCode, vaultError } from './errors.ts';

/** The only algorithm a {@link SealedBox} uses. */
export const SEALED_ALG = 'X25519-HKDF-SHA256-A256GCM' as const;

/** An X25519 key pair whose public half is handed out (raw 32 bytes, base64). */
export interface RecipientKeyPair {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/**
 * A fresh X25519 key pair for one ingress instance: created at start-up, never stored, so a
 * credential sealed to it can be opened by that process only, and only while it runs.
 */
export function createIngressKeyPair(): RecipientKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(privateKey), privateKey };
}

function ecdh(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw vaultError(VaultErrorCode.SealInvalid, 'X25519 key agreement failed (low-order public key)', { cause });
  }
  if (shared.every((b) => b === 0)) throw vaultError(VaultErrorCode.SealInvalid, 'X25519 public key is a low-order point');
  return shared;
}

function boxKey(shared: Buffer, epk: Buffer, recipient: Buffer): KeyObject {
  const info = Buffer.concat([Buffer.from(`tameflare/sealed/v1/${SEALED_ALG}`), epk, recipient]);
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
  shared.fill(0);
  const k = createSecretKey(key);
  key.fill(0);
  return k;
}

const aadBytes = (aad: string | Uint8Array) => (typeof aad === 'string' ? Buffer.from(aad) : aad);

/** Seals values to recipients' X25519 public keys. */
export interface Sealer {
  /** Seals `value` to `recipientPublicKey` (raw, base64); only the matching private key with the same `aad` opens it. */
  seal(value: string | Uint8Array, recipientPublicKey: string, aad: string | Uint8Array): SealedBox;
}

export interface SealerOptions {
  /** Seals under one sender key before a new one is generated (bounds random-IV use per AES key). Default 2^24. */
  maxSealsPerKey?: number;
  /** Recipients whose derived key is cached. Default 1024. */
  maxRecipients?: number;
}

/**
 * A sealer with its own X25519 key pair. The ECDH and HKDF result is cached per recipient key
 * (they cost about 60 µs, AES-GCM about 5 µs), which is safe because every box gets a random
 * 96-bit IV and the sender key is replaced long before random IVs could collide.
 */
export function createSealer(options: SealerOptions = {}): Sealer {
  const maxSeals = options.maxSealsPerKey ?? 2 ** 24;
  const maxRecipients = options.maxRecipients ?? 1024;
  let sender = generateKeyPairSync('x25519').privateKey;
  let senderRaw = Buffer.from(rawPublicKey(sender), 'base64');
  let senderB64 = senderRaw.toString('base64');
  let seals = 0;
  const cache = new Map<string, KeyObject>();

  const keyFor = (recipient: string): KeyObject => {
    let k = cache.get(recipient);
    if (k) return k;
    const pub = x25519PublicKey(recipient);
    k = boxKey(ecdh(sender, pub), senderRaw, Buffer.from(recipient, 'base64'));
    if (cache.size >= maxRecipients) cache.delete(cache.keys().next().value!);
    cache.set(recipient, k);
    return k;
  };

  return {
    seal(value, recipientPublicKey, aad) {
      if (++seals > maxSeals) {
        sender = generateKeyPairSync('x25519').privateKey;
        senderRaw = Buffer.from(rawPublicKey(sender), 'base64');
        senderB64 = senderRaw.toString('base64');
        seals = 1;
        cache.clear();
      }
      const key = keyFor(recipientPublicKey);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aadBytes(aad));
      const ct = Buffer.concat([c.update(typeof value === 'string' ? Buffer.from(value) : value), c.final()]);
      return { alg: SEALED_ALG, epk: senderB64, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
    },
  };
}

let defaultSealer: Sealer | undefined;

/** {@link Sealer.seal} with one process-wide sealer. */
export function seal(value: string | Uint8Array, recipientPublicKey: string, aad: string | Uint8Array): SealedBox {
  defaultSealer ??= createSealer();
  return defaultSealer.seal(value, recipientPublicKey, aad);
}

interface RecipientCache {
  readonly publicRaw: Buffer;
  readonly keys: Map<string, KeyObject>;
}
const recipientCaches = new WeakMap<KeyObject, RecipientCache>();

/**
 * Opens a box sealed to `privateKey`'s public key with the same `aad`. Throws
 * `TF_ERR_VAULT_SEAL_INVALID` for a malformed box and `TF_ERR_VAULT_OPEN_FAILED` when it does not
 * authenticate (other recipient, other AAD, tampered); no partial plaintext is ever returned.
 */
export function open(box: SealedBox, privateKey: KeyObject, aad: string | Uint8Array): Buffer {
  if (box.alg !== SEALED_ALG) throw vaultError(VaultErrorCode.SealInvalid, `unsupported sealed box algorithm ${String(box.alg)}`);
  const iv = decodeBase64Strict(box.iv, VaultErrorCode.SealInvalid, 'sealed box iv');
  const tag = decodeBase64Strict(box.tag, VaultErrorCode.SealInvalid, 'sealed box tag');
  const ct = decodeBase64Strict(box.ct, VaultErrorCode.SealInvalid, 'sealed box ciphertext');
  if (iv.length !== 12 || tag.length !== 16) throw vaultError(VaultErrorCode.SealInvalid, 'sealed box iv or tag has the wrong length');
  let rc = recipientCaches.get(privateKey);
  if (!rc) {
    rc = { publicRaw: Buffer.from(rawPublicKey(createPublicKey(privateKey)), 'base64'), keys: new Map() };
    recipientCaches.set(privateKey, rc);
  }
  let key = rc.keys.get(box.epk);
  if (!key) {
    const epk = x25519PublicKey(box.epk);
    key = boxKey(ecdh(privateKey, epk), Buffer.from(box.epk, 'base64'), rc.publicRaw);
    if (rc.keys.size >= 256) rc.keys.delete(rc.keys.keys().next().value!);
    rc.keys.set(box.epk, key);
  }
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(aadBytes(aad));
  d.setAuthTag(tag);
  const out = d.update(ct);
  try {
    d.final();
  } catch (cause) {
    out.fill(0);
    throw vaultError(VaultErrorCode.OpenFailed, 'sealed box does not open: not sealed to this key, for this purpose, or tampered with', { cause });
  }
  return out;
}
