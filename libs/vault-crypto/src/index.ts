/**
 * @tameflare/vault-crypto: the vault's cryptography, and the helpers the ingress uses to inject a
 * released credential and scrub it from responses. Pure: node:crypto and node:stream only.
 *
 * - master keys and keyrings: {@link keyringFromEnv}, {@link masterKeyFromBase64}, {@link masterKeyFromFile}
 * - envelope encryption at rest: {@link encryptSecret}, {@link decryptSecret}, {@link rewrapDataKey}
 * - sealing in transit: {@link seal}, {@link open}, {@link createSealer}, {@link createIngressKeyPair},
 *   {@link sealCredential}, {@link openCredential}
 * - on the request: {@link injectCredential}; on the response: {@link createSecretScrubber}
 */
export { VaultError, VaultErrorCode, vaultError, type VaultErrorCodeValue } from './errors.ts';
export {
  MASTER_KEY_BYTES,
  MasterKeyEnv,
  createKeyring,
  generateMasterKey,
  keyringFromEnv,
  loadKeyring,
  masterKeyFromBase64,
  masterKeyFromBytes,
  masterKeyFromFile,
  type Keyring,
  type KeyringSettings,
  type MasterKey,
} from './master-key.ts';
export { decryptSecret, encryptSecret, rewrapDataKey, secretAad, type EncryptedSecret, type SecretBinding } from './envelope.ts';
export { SEALED_ALG, createIngressKeyPair, createSealer, open, seal, type RecipientKeyPair, type Sealer, type SealerOptions } from './seal.ts';
export { credentialAad, openCredential, sealCredential, sealSecretValue, secretPutAad, type CredentialBinding } from './credential.ts';
export { MAX_SECRET_BYTES, MIN_SECRET_BYTES, validateSecretValue } from './limits.ts';
export { basicCredential, injectCredential, type HeaderMap, type InjectedRequest } from './inject.ts';
export { REDACTED, createSecretScrubber, secretForms, type SecretScrubber } from './scrub.ts';
