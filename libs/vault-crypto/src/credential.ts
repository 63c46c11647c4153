import type { KeyObject } from 'node:crypto';
import type { CredentialInjection, SealedBox, SealedCredential } from '@tameflare/contracts';
import { open, seal, type Sealer } from './seal.ts';

/** What a released credential is bound to: the one action and ingress instance it was released for. */
export interface CredentialBinding {
  readonly actionId: string;
  readonly ingressId: string;
  readonly secretName: string;
  readonly secretVersion: number;
}

/** AAD of a released credential. */
export function credentialAad(b: CredentialBinding): Buffer {
  return Buffer.from(JSON.stringify(['tf-credential/v1', b.actionId, b.ingressId, b.secretName, b.secretVersion]));
}

/** AAD of a secret value sent to the vault (`tf secret set`): the gateway and name it is stored under. */
export function secretPutAad(gatewayId: string, name: string): Buffer {
  return Buffer.from(JSON.stringify(['tf-secret-put/v1', gatewayId, name]));
}

/** Seals a credential for one action to one ingress instance (the vault's side). */
export function sealCredential(
  value: Uint8Array,
  ingressPublicKey: string,
  binding: CredentialBinding,
  injection: CredentialInjection,
  sealer?: Sealer,
): SealedCredential {
  const aad = credentialAad(binding);
  return {
    secretName: binding.secretName,
    secretVersion: binding.secretVersion,
    injection,
    box: sealer ? sealer.seal(value, ingressPublicKey, aad) : seal(value, ingressPublicKey, aad),
  };
}

/**
 * Opens a released credential (the ingress's side) and returns the secret as a string. Fails with
 * `TF_ERR_VAULT_OPEN_FAILED` if it was sealed for another action or ingress instance.
 */
export function openCredential(credential: SealedCredential, privateKey: KeyObject, binding: { actionId: string; ingressId: string }): string {
  const aad = credentialAad({ ...binding, secretName: credential.secretName, secretVersion: credential.secretVersion });
  const buf = open(credential.box, privateKey, aad);
  const s = buf.toString('utf8');
  buf.fill(0);
  return s;
}

/**
 * Seals a secret value for `tf.cmd.vault.secret.put` (the CLI's side): to the vault's transport
 * key from `tf.cmd.vault.public_key`, bound to the gateway and name it will be stored under.
 */
export function sealSecretValue(value: string | Uint8Array, vaultPublicKey: string, target: { gatewayId: string; name: string }): SealedBox {
  return seal(value, vaultPublicKey, secretPutAad(target.gatewayId, target.name));
}
