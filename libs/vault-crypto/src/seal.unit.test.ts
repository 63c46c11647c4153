import { describe, expect, it } from 'vitest';
import { isTameFlareError, uuidv7, type SealedBox } from '@tameflare/contracts';
import {
  SEALED_ALG,
  VaultErrorCode,
  createIngressKeyPair,
  createSealer,
  generateMasterKey,
  masterKeyFromBase64,
  open,
  openCredential,
  seal,
  sealCredential,
  secretPutAad,
} from './index.ts';

const secret = 'xoxb-1234567890-abcdefghijklmnop';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isTameFlareError(err) ? err.code : `unexpected ${String(err)}`;
  }
  return 'no error';
}

const tamper = (box: SealedBox, field: 'ct' | 'tag' | 'iv' | 'epk'): SealedBox => {
  const b = Buffer.from(box[field], 'base64');
  b[0] = b[0]! ^ 0x80;
  return { ...box, [field]: b.toString('base64') };
};

describe('sealed boxes (X25519 + HKDF-SHA256 + AES-256-GCM)', () => {
  it('opens only with the recipient key and the same AAD; the box never carries the value in clear', () => {
    const ingress = createIngressKeyPair();
    const box = seal(secret, ingress.publicKey, 'aad-1');
    expect(box.alg).toBe(SEALED_ALG);
    const json = JSON.stringify(box);
    expect(json).not.toContain(secret);
    expect(json).not.toContain(Buffer.from(secret).toString('base64').slice(0, 16));
    expect(open(box, ingress.privateKey, 'aad-1').toString()).toBe(secret);

    expect(codeOf(() => open(box, ingress.privateKey, 'aad-2'))).toBe(VaultErrorCode.OpenFailed);
    expect(codeOf(() => open(box, createIngressKeyPair().privateKey, 'aad-1'))).toBe(VaultErrorCode.OpenFailed);
    for (const f of ['ct', 'tag', 'iv', 'epk'] as const) {
      expect([VaultErrorCode.OpenFailed, VaultErrorCode.SealInvalid]).toContain(codeOf(() => open(tamper(box, f), ingress.privateKey, 'aad-1')));
    }
  });

  it('refuses malformed public keys and boxes with a clear error', () => {
    const ingress = createIngressKeyPair();
    expect(codeOf(() => seal(secret, 'not base64!', 'a'))).toBe(VaultErrorCode.SealInvalid);
    expect(codeOf(() => seal(secret, Buffer.alloc(31, 1).toString('base64'), 'a'))).toBe(VaultErrorCode.SealInvalid);
    expect(codeOf(() => seal(secret, Buffer.alloc(32, 0).toString('base64'), 'a'))).toBe(VaultErrorCode.SealInvalid);
    const box = seal(secret, ingress.publicKey, 'a');
    expect(codeOf(() => open({ ...box, alg: 'RSA' as typeof SEALED_ALG }, ingress.privateKey, 'a'))).toBe(VaultErrorCode.SealInvalid);
    expect(codeOf(() => open({ ...box, iv: Buffer.alloc(8).toString('base64') }, ingress.privateKey, 'a'))).toBe(VaultErrorCode.SealInvalid);
  });

  it('caches the key per recipient, and replaces its sender key after the configured number of seals', () => {
    const sealer = createSealer({ maxSealsPerKey: 3 });
    const a = createIngressKeyPair();
    const boxes = Array.from({ length: 7 }, (_, i) => sealer.seal(`${secret}-${i}`, a.publicKey, 'x'));
    const epks = boxes.map((b) => b.epk);
    expect(new Set(epks.slice(0, 3)).size).toBe(1);
    expect(new Set(epks).size).toBe(3);
    expect(new Set(boxes.map((b) => b.iv)).size).toBe(7);
    boxes.forEach((b, i) => expect(open(b, a.privateKey, 'x').toString()).toBe(`${secret}-${i}`));
  });

  it('binds a released credential to its action and ingress instance', () => {
    const ingress = createIngressKeyPair();
    const actionId = uuidv7();
    const cred = sealCredential(Buffer.from(secret), ingress.publicKey, { actionId, ingressId: 'ingress-1', secretName: 'slack', secretVersion: 3 }, { kind: 'bearer' });
    expect(cred).toMatchObject({ secretName: 'slack', secretVersion: 3, injection: { kind: 'bearer' } });
    expect(openCredential(cred, ingress.privateKey, { actionId, ingressId: 'ingress-1' })).toBe(secret);
    expect(codeOf(() => openCredential(cred, ingress.privateKey, { actionId: uuidv7(), ingressId: 'ingress-1' }))).toBe(VaultErrorCode.OpenFailed);
    expect(codeOf(() => openCredential(cred, ingress.privateKey, { actionId, ingressId: 'ingress-2' }))).toBe(VaultErrorCode.OpenFailed);
    expect(codeOf(() => openCredential({ ...cred, secretVersion: 2 }, ingress.privateKey, { actionId, ingressId: 'ingress-1' }))).toBe(VaultErrorCode.OpenFailed);
  });

  it('seals a value to the vault transport key derived from the master key, bound to gateway and name', () => {
    const b64 = generateMasterKey();
    const mk = masterKeyFromBase64(b64);
    const replica = masterKeyFromBase64(b64);
    const box = seal(secret, mk.transportPublicKey, secretPutAad('default', 'github'));
    expect(open(box, replica.transportPrivateKey, secretPutAad('default', 'github')).toString()).toBe(secret);
    expect(codeOf(() => open(box, replica.transportPrivateKey, secretPutAad('default', 'stripe')))).toBe(VaultErrorCode.OpenFailed);
  });
});
