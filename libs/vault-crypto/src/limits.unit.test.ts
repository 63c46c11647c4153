import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { MAX_SECRET_BYTES, VaultErrorCode, validateSecretValue } from './index.ts';

function codeOf(v: Uint8Array): string {
  try {
    validateSecretValue(v, 'github');
    return 'ok';
  } catch (err) {
    return isTameFlareError(err) ? err.code : 'unexpected';
  }
}

describe('secret value limits', () => {
  it('accepts ordinary API keys, including non-ASCII passwords', () => {
    expect(codeOf(Buffer.from('ghp_16C7e42F292c6912E7710c838347Ae178B4a'))).toBe('ok');
    expect(codeOf(Buffer.from('pässwörd-with\ttab'))).toBe('ok');
    expect(codeOf(Buffer.alloc(MAX_SECRET_BYTES, 'a'))).toBe('ok');
  });
  it('refuses a value over the size limit, naming sizes but not the value', () => {
    expect(codeOf(Buffer.alloc(MAX_SECRET_BYTES + 1, 'a'))).toBe(VaultErrorCode.SecretTooLarge);
    expect(() => validateSecretValue(Buffer.alloc(MAX_SECRET_BYTES + 1, 'a'), 'github')).toThrow(`github is ${MAX_SECRET_BYTES + 1} bytes; the limit is ${MAX_SECRET_BYTES}`);
  });
  it('refuses empty, short, control-character and invalid UTF-8 values', () => {
    expect(codeOf(Buffer.alloc(0))).toBe(VaultErrorCode.SecretInvalid);
    expect(codeOf(Buffer.from('short'))).toBe(VaultErrorCode.SecretInvalid);
    expect(codeOf(Buffer.from('token-value\r\nX-Evil: 1'))).toBe(VaultErrorCode.SecretInvalid);
    expect(codeOf(Buffer.from('token-value\n'))).toBe(VaultErrorCode.SecretInvalid);
    expect(codeOf(Buffer.from([0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0xff]))).toBe(VaultErrorCode.SecretInvalid);
  });
});
