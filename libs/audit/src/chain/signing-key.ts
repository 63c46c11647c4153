import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@tameflare/contracts';
import { AuditError, AuditErrorCode } from '../errors.ts';

/** The file names of the chain signing key inside the state directory. */
export const SIGNING_KEY_FILE = 'audit-chain-ed25519.key';
export const PUBLIC_KEY_FILE = 'audit-chain-ed25519.pub';

/** An Ed25519 key pair that signs chain checkpoints. */
export interface ChainSigningKey {
  /** First 16 hex digits of SHA-256 of the public key (SPKI DER). */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** A public key a verifier trusts, by key id. */
export interface TrustedKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

/** The key id of an Ed25519 public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** A trusted key from its PEM (SPKI) or base64 DER text, as written by {@link loadOrCreateSigningKey} or an export. */
export function trustedKeyFrom(text: string): TrustedKey {
  try {
    const publicKey = text.includes('BEGIN PUBLIC KEY')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
    if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key (${publicKey.asymmetricKeyType})`);
    return { keyId: keyIdOf(publicKey), publicKey };
  } catch (cause) {
    throw new AuditError(AuditErrorCode.SigningKey, `not a usable chain public key: ${(cause as Error).message}`, { cause });
  }
}

/** The public key as base64 SPKI DER, the form exports carry. */
export function publicKeyBase64(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * Loads the chain signing key from `stateDir`, creating it on first use. The private key file is
 * created with mode 0600 and refused if anyone but its owner can read or write it.
 *
 * @throws AuditError `TF_ERR_AUDIT_SIGNING_KEY` when the file is unreadable, malformed or too open.
 */
export function loadOrCreateSigningKey(stateDir: string): ChainSigningKey {
  const file = join(stateDir, SIGNING_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AuditError(AuditErrorCode.SigningKey, `cannot read the chain signing key ${file}`, { cause: err });
    }
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditError(AuditErrorCode.SigningKey, `cannot write ${file}`, { cause: raced });
      pem = readFileSync(file, 'utf8');
    }
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AuditError(AuditErrorCode.SigningKey, `${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`, { details: { file, mode } });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new AuditError(AuditErrorCode.SigningKey, `${file} is not a PEM private key`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditError(AuditErrorCode.SigningKey, `${file} holds a ${privateKey.asymmetricKeyType} key, not Ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  const pubFile = join(stateDir, PUBLIC_KEY_FILE);
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let current: string | null = null;
  try {
    current = readFileSync(pubFile, 'utf8');
  } catch {
    current = null;
  }
  if (current !== pubPem) writeFileSync(pubFile, pubPem, { mode: 0o644 });
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

/** Reads the public key written next to the signing key (what `tf audit verify` trusts by default). */
export function loadTrustedKey(stateDir: string): TrustedKey {
  const file = join(stateDir, PUBLIC_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AuditError(AuditErrorCode.SigningKey, `cannot read the chain public key ${file}`, { cause });
  }
  return trustedKeyFrom(text);
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(c: { position: string | number | bigint; chainHash: string; keyId: string }): Buffer {
  return Buffer.from(canonicalJson({ v: 1, kind: 'tameflare.audit.chain-checkpoint', position: String(c.position), chainHash: c.chainHash, keyId: c.keyId }));
}

/** Signs the chain head at `position`; returns the base64 signature. */
export function signCheckpoint(key: ChainSigningKey, position: string | number | bigint, chainHashHex: string): string {
  return sign(null, checkpointMessage({ position, chainHash: chainHashHex, keyId: key.keyId }), key.privateKey).toString('base64');
}

/** True when `signature` is `publicKey`'s signature of the checkpoint. */
export function verifyCheckpoint(publicKey: KeyObject, c: { position: string | number | bigint; chainHash: string; keyId: string; signature: string }): boolean {
  try {
    return verify(null, checkpointMessage(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
