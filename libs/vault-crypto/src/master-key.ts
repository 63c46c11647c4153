import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { decodeBase64Strict, rawPublicKey, x25519PrivateKey } from './encoding.ts';
import { VaultErrorCode, vaultError } from './errors.ts';

/** Length of a master key in bytes. */
export const MASTER_KEY_BYTES = 32;

/**
 * A loaded master key, reduced to what the vault needs: the key-encryption key (KEK) that wraps
 * data keys, a public identifier, and the X25519 transport key secret values are sealed to on
 * their way in. The raw master key is not kept.
 */
export interface MasterKey {
  /** `mk_` + 16 hex chars, derived one-way from the key: safe to store, log and put in events. */
  readonly id: string;
  /** AES-256 key that wraps and unwraps data keys. */
  readonly kek: KeyObject;
  /** X25519 private key secret values are sealed to (`tf secret set`); stable for a given master key. */
  readonly transportPrivateKey: KeyObject;
  /** Its public half, raw 32 bytes, base64. */
  readonly transportPublicKey: string;
}

function derive(ikm: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `tameflare/vault/${info}`, 32));
}

/** Derives a {@link MasterKey} from 32 raw bytes. The caller's buffer is zeroed. */
export function masterKeyFromBytes(raw: Buffer, source = 'master key'): MasterKey {
  if (raw.length !== MASTER_KEY_BYTES) {
    const n = raw.length;
    raw.fill(0);
    throw vaultError(VaultErrorCode.MasterKeyInvalid, `${source} must be exactly ${MASTER_KEY_BYTES} bytes (base64 of 32 random bytes), got ${n}`, {
      details: { source, length: n },
    });
  }
  const kekBytes = derive(raw, 'kek/v1');
  const idBytes = derive(raw, 'key-id/v1');
  const transportSeed = derive(raw, 'transport-x25519/v1');
  raw.fill(0);
  const kek = createSecretKey(kekBytes);
  const transportPrivateKey = x25519PrivateKey(transportSeed);
  kekBytes.fill(0);
  transportSeed.fill(0);
  return { id: `mk_${idBytes.subarray(0, 8).toString('hex')}`, kek, transportPrivateKey, transportPublicKey: rawPublicKey(transportPrivateKey) };
}

/** Parses a master key given as base64 of exactly 32 bytes. */
export function masterKeyFromBase64(text: string, source = 'master key'): MasterKey {
  const trimmed = text.trim();
  if (trimmed === '') throw vaultError(VaultErrorCode.MasterKeyInvalid, `${source} is empty`, { details: { source } });
  return masterKeyFromBytes(decodeBase64Strict(trimmed, VaultErrorCode.MasterKeyInvalid, source), source);
}

/**
 * Reads a master key file (base64 text). Refuses a file that group or others can read or write:
 * mode must be 0600 or stricter, as ssh does for private keys.
 */
export function masterKeyFromFile(path: string): MasterKey {
  let st;
  try {
    st = statSync(path);
  } catch (cause) {
    throw vaultError(VaultErrorCode.MasterKeyInvalid, `master key file ${path} cannot be read`, { cause, details: { path } });
  }
  if (!st.isFile()) throw vaultError(VaultErrorCode.MasterKeyInvalid, `master key file ${path} is not a regular file`, { details: { path } });
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw vaultError(
      VaultErrorCode.MasterKeyFileInsecure,
      `master key file ${path} has mode ${mode.toString(8).padStart(4, '0')}; it must be 0600 or stricter (chmod 600 ${path})`,
      { details: { path, mode: mode.toString(8) } },
    );
  }
  return masterKeyFromBase64(readFileSync(path, 'utf8'), `master key file ${path}`);
}

/** A fresh random master key, base64: what `tf up` writes to a new key file. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

/**
 * The master keys a vault process holds: the current one (wraps new data keys) and any previous
 * ones still needed to unwrap data keys until `tf secret rotate-master-key` has re-wrapped them.
 */
export interface Keyring {
  readonly current: MasterKey;
  readonly previous: readonly MasterKey[];
  /** The loaded key with this id, or undefined. */
  get(id: string): MasterKey | undefined;
}

export function createKeyring(current: MasterKey, previous: readonly MasterKey[] = []): Keyring {
  const byId = new Map<string, MasterKey>();
  for (const k of [current, ...previous]) if (!byId.has(k.id)) byId.set(k.id, k);
  const prev = [...byId.values()].filter((k) => k.id !== current.id);
  return { current, previous: prev, get: (id) => byId.get(id) };
}

/** Environment variables {@link keyringFromEnv} reads. */
export const MasterKeyEnv = {
  key: 'TF_VAULT_MASTER_KEY',
  file: 'TF_VAULT_MASTER_KEY_FILE',
  previousKeys: 'TF_VAULT_PREVIOUS_MASTER_KEYS',
  previousFiles: 'TF_VAULT_PREVIOUS_MASTER_KEY_FILES',
} as const;

/** Where the master keys come from (what `TF_VAULT_*` settings hold). */
export interface KeyringSettings {
  /** The current master key, base64 of 32 bytes. */
  masterKey?: string | undefined;
  /** Or a file holding it (mode 0600 or stricter). */
  masterKeyFile?: string | undefined;
  /** Previous master keys still needed until `tf secret rotate-master-key` has re-wrapped their data keys. */
  previousMasterKeys?: readonly string[] | undefined;
  previousMasterKeyFiles?: readonly string[] | undefined;
}

/**
 * Builds the keyring: exactly one of `masterKey` and `masterKeyFile`, plus any previous keys.
 *
 * @throws VaultError `TF_ERR_VAULT_MASTER_KEY_INVALID` (none, both, wrong length, not base64) or
 * `TF_ERR_VAULT_MASTER_KEY_FILE_INSECURE`, naming the setting, never the key.
 */
export function loadKeyring(settings: KeyringSettings): Keyring {
  const { masterKey: inline, masterKeyFile: file } = settings;
  if (inline && file) {
    throw vaultError(VaultErrorCode.MasterKeyInvalid, `set either ${MasterKeyEnv.key} or ${MasterKeyEnv.file}, not both`);
  }
  if (!inline && !file) {
    throw vaultError(VaultErrorCode.MasterKeyInvalid, `no master key: set ${MasterKeyEnv.key} (base64 of 32 bytes) or ${MasterKeyEnv.file}`);
  }
  const current = inline ? masterKeyFromBase64(inline, MasterKeyEnv.key) : masterKeyFromFile(file!);
  const previous = [
    ...(settings.previousMasterKeys ?? []).map((k, i) => masterKeyFromBase64(k, `${MasterKeyEnv.previousKeys}[${i}]`)),
    ...(settings.previousMasterKeyFiles ?? []).map((p) => masterKeyFromFile(p)),
  ];
  return createKeyring(current, previous);
}

/**
 * Loads the keyring from the environment variables of {@link MasterKeyEnv} (lists are
 * comma-separated). See {@link loadKeyring}.
 */
export function keyringFromEnv(env: Record<string, string | undefined> = process.env): Keyring {
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return loadKeyring({
    masterKey: env[MasterKeyEnv.key] || undefined,
    masterKeyFile: env[MasterKeyEnv.file] || undefined,
    previousMasterKeys: list(env[MasterKeyEnv.previousKeys]),
    previousMasterKeyFiles: list(env[MasterKeyEnv.previousFiles]),
  });
}
