import { describe, expect, it } from 'vitest';
import { isTameFlareError, uuidv7 } from '@tameflare/contracts';
import {
  VaultErrorCode,
  createKeyring,
  decryptSecret,
  encryptSecret,
  generateMasterKey,
  masterKeyFromBase64,
  rewrapDataKey,
  type EncryptedSecret,
  type Keyring,
  type SecretBinding,
} from './index.ts';

const value = Buffer.from('ghp_16C7e42F292c6912E7710c838347Ae178B4a');
const mkA = masterKeyFromBase64(generateMasterKey());
const mkB = masterKeyFromBase64(generateMasterKey());
const ringA = createKeyring(mkA);
const binding: SecretBinding = { gatewayId: 'default', secretId: uuidv7(), version: 1 };

function failure(fn: () => unknown): { code: string; message: string; returned: unknown } {
  let returned: unknown;
  try {
    returned = fn();
  } catch (err) {
    if (!isTameFlareError(err)) throw err;
    return { code: err.code, message: err.message, returned };
  }
  return { code: 'none', message: '', returned };
}

function flip(buf: Buffer, at: number): Buffer {
  const c = Buffer.from(buf);
  c[at] = c[at]! ^ 0x01;
  return c;
}

describe('envelope encryption', () => {
  it('round-trips, and the stored bytes hold neither the value nor its base64', () => {
    const rec = encryptSecret(value, mkA, binding);
    expect(rec.masterKeyId).toBe(mkA.id);
    expect(decryptSecret(rec, ringA, binding).equals(value)).toBe(true);
    for (const blob of [rec.ciphertext, rec.wrappedKey]) {
      expect(blob.includes(value)).toBe(false);
      expect(blob.toString('latin1')).not.toContain(value.toString('base64').slice(0, 20));
    }
  });

  it('uses a fresh data key per version: the same value never encrypts to the same bytes', () => {
    const a = encryptSecret(value, mkA, binding);
    const b = encryptSecret(value, mkA, binding);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
  });

  it('fails on any tampered byte of the ciphertext, with a clear error and no output', () => {
    const rec = encryptSecret(value, mkA, binding);
    for (const at of [0, 1, 14, 29, rec.ciphertext.length - 1]) {
      const f = failure(() => decryptSecret({ ...rec, ciphertext: flip(rec.ciphertext, at) }, ringA, binding));
      expect(f.code).toBe(VaultErrorCode.DecryptFailed);
      expect(f.returned).toBeUndefined();
      expect(f.message).toMatch(at === 0 ? /malformed/ : /ciphertext of secret .* does not authenticate/);
    }
    const truncated = failure(() => decryptSecret({ ...rec, ciphertext: rec.ciphertext.subarray(0, 20) }, ringA, binding));
    expect(truncated.code).toBe(VaultErrorCode.DecryptFailed);
    const wrapped = failure(() => decryptSecret({ ...rec, wrappedKey: flip(rec.wrappedKey, 40) }, ringA, binding));
    expect(wrapped).toMatchObject({ code: VaultErrorCode.DecryptFailed, message: expect.stringMatching(/data key .* does not authenticate/) });
  });

  it('fails with the wrong master key: unknown key id, or a forged key id', () => {
    const rec = encryptSecret(value, mkA, binding);
    const unknown = failure(() => decryptSecret(rec, createKeyring(mkB), binding));
    expect(unknown.code).toBe(VaultErrorCode.MasterKeyUnknown);
    expect(unknown.message).toContain(mkA.id);
    const forged = failure(() => decryptSecret({ ...rec, masterKeyId: mkB.id }, createKeyring(mkB), binding));
    expect(forged).toMatchObject({ code: VaultErrorCode.DecryptFailed, message: expect.stringMatching(/wrong master key/) });
  });

  it('fails when the record is read under another secret id, version or gateway (AAD)', () => {
    const rec = encryptSecret(value, mkA, binding);
    for (const other of [{ ...binding, secretId: uuidv7() }, { ...binding, version: 2 }, { ...binding, gatewayId: 'prod' }]) {
      expect(failure(() => decryptSecret(rec, ringA, other)).code).toBe(VaultErrorCode.DecryptFailed);
    }
    // Swapping only the value ciphertext between two rows of the same key: the data key opens, the value does not.
    const b2 = { ...binding, secretId: uuidv7() };
    const rec2 = encryptSecret(Buffer.from('sk_live_other_value_123'), mkA, b2);
    const moved: EncryptedSecret = { ...rec, ciphertext: rec2.ciphertext };
    expect(failure(() => decryptSecret(moved, ringA, binding)).code).toBe(VaultErrorCode.DecryptFailed);
  });

  it('master-key rotation re-wraps data keys only, and every secret stays readable', () => {
    const rows = Array.from({ length: 25 }, (_, i) => {
      const b: SecretBinding = { gatewayId: i % 2 ? 'default' : 'prod', secretId: uuidv7(), version: 1 + (i % 3) };
      const v = Buffer.from(`secret-value-number-${i}-${'x'.repeat(i)}`);
      return { b, v, rec: encryptSecret(v, mkA, b) };
    });
    const during: Keyring = createKeyring(mkB, [mkA]);
    const rotated = rows.map((r) => ({ ...r, rec: rewrapDataKey(r.rec, during, r.b) }));
    const after = createKeyring(mkB);
    for (const [i, r] of rotated.entries()) {
      expect(r.rec.masterKeyId).toBe(mkB.id);
      expect(r.rec.ciphertext.equals(rows[i]!.rec.ciphertext)).toBe(true);
      expect(r.rec.wrappedKey.equals(rows[i]!.rec.wrappedKey)).toBe(false);
      expect(decryptSecret(r.rec, after, r.b).equals(r.v)).toBe(true);
      expect(failure(() => decryptSecret(rows[i]!.rec, after, r.b)).code).toBe(VaultErrorCode.MasterKeyUnknown);
    }
    expect(rewrapDataKey(rotated[0]!.rec, during, rotated[0]!.b)).toBe(rotated[0]!.rec);
  });
});
