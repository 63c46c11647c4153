import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { VaultErrorCode, generateMasterKey, keyringFromEnv, masterKeyFromBase64, masterKeyFromFile } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tf-mk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyFile(name: string, content: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isTameFlareError(err) ? err.code : 'not a TameFlareError';
  }
  return undefined;
}

describe('master key', () => {
  it('loads base64 of 32 bytes, with a stable one-way id', () => {
    const b64 = generateMasterKey();
    const a = masterKeyFromBase64(b64);
    const b = masterKeyFromBase64(`  ${b64}\n`);
    expect(a.id).toMatch(/^mk_[0-9a-f]{16}$/);
    expect(b.id).toBe(a.id);
    expect(b.transportPublicKey).toBe(a.transportPublicKey);
    expect(masterKeyFromBase64(generateMasterKey()).id).not.toBe(a.id);
    expect(a.id).not.toContain(Buffer.from(b64, 'base64').toString('hex').slice(0, 16));
  });

  it('refuses a key of the wrong length and says what is expected', () => {
    for (const n of [0, 16, 31, 33, 64]) {
      const text = randomBytes(n).toString('base64');
      expect(() => masterKeyFromBase64(text)).toThrow(n === 0 ? /empty/ : new RegExp(`exactly 32 bytes .*got ${n}`));
      expect(codeOf(() => masterKeyFromBase64(text))).toBe(VaultErrorCode.MasterKeyInvalid);
    }
  });

  it('refuses text that is not canonical base64 instead of decoding part of it', () => {
    const good = generateMasterKey();
    for (const bad of [good.slice(1), `${good.slice(0, -2)}!!`, good.replace(/=$/, ''), 'hex:' + randomBytes(32).toString('hex')]) {
      expect(codeOf(() => masterKeyFromBase64(bad))).toBe(VaultErrorCode.MasterKeyInvalid);
    }
  });

  it('reads a key file of mode 0600 or 0400 and refuses one that group or others can read', () => {
    const b64 = generateMasterKey();
    expect(masterKeyFromFile(keyFile('ok600', b64 + '\n', 0o600)).id).toBe(masterKeyFromBase64(b64).id);
    expect(masterKeyFromFile(keyFile('ok400', b64, 0o400)).id).toBe(masterKeyFromBase64(b64).id);
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const p = keyFile(`bad${mode.toString(8)}`, b64, mode);
      expect(codeOf(() => masterKeyFromFile(p))).toBe(VaultErrorCode.MasterKeyFileInsecure);
      expect(() => masterKeyFromFile(p)).toThrow(/must be 0600 or stricter/);
    }
    expect(codeOf(() => masterKeyFromFile(join(dir, 'missing')))).toBe(VaultErrorCode.MasterKeyInvalid);
    expect(codeOf(() => masterKeyFromFile(keyFile('short', randomBytes(8).toString('base64'), 0o600)))).toBe(VaultErrorCode.MasterKeyInvalid);
  });

  it('builds the keyring from the environment: exactly one current key, any previous keys', () => {
    const cur = generateMasterKey();
    const prev = generateMasterKey();
    const prevFile = keyFile('prev', generateMasterKey(), 0o600);
    const kr = keyringFromEnv({ TF_VAULT_MASTER_KEY: cur, TF_VAULT_PREVIOUS_MASTER_KEYS: `${prev}, `, TF_VAULT_PREVIOUS_MASTER_KEY_FILES: prevFile });
    expect(kr.current.id).toBe(masterKeyFromBase64(cur).id);
    expect(kr.previous.map((k) => k.id)).toEqual([masterKeyFromBase64(prev).id, masterKeyFromFile(prevFile).id]);
    expect(kr.get(masterKeyFromBase64(prev).id)).toBeDefined();
    expect(kr.get('mk_0000000000000000')).toBeUndefined();

    expect(keyringFromEnv({ TF_VAULT_MASTER_KEY_FILE: prevFile }).current.id).toBe(masterKeyFromFile(prevFile).id);
    expect(() => keyringFromEnv({})).toThrow(/no master key/);
    expect(() => keyringFromEnv({ TF_VAULT_MASTER_KEY: cur, TF_VAULT_MASTER_KEY_FILE: prevFile })).toThrow(/not both/);
    expect(() => keyringFromEnv({ TF_VAULT_MASTER_KEY: randomBytes(24).toString('base64') })).toThrow(/TF_VAULT_MASTER_KEY must be exactly 32 bytes/);
  });
});
