import { randomUUID } from 'node:crypto';
import {
  createEvent,
  isTameFlareError,
  type EventEnvelope,
  type TameFlareEvent,
  type VaultMasterKeyRotateReply,
  type VaultPublicKeyReply,
  type VaultReleaseReply,
  type VaultSecretListReply,
  type VaultSecretPutReply,
  type VaultSecretRevokeReply,
} from '@tameflare/contracts';
import {
  VaultErrorCode,
  createSealer,
  decryptSecret,
  encryptSecret,
  open,
  rewrapDataKey,
  sealCredential,
  secretPutAad,
  validateSecretValue,
  vaultError,
  type Keyring,
  type Sealer,
} from '@tameflare/vault-crypto';
import type { decodeList, decodePut, decodeRelease, decodeRevoke, decodeRotate } from './payloads.ts';
import { findReleasable, insertVersion, listMetadata, lockSecret, lockStaleVersions, markRevoked, updateWrappedKey } from './repository.ts';
import type { VaultStore } from './vault-store.ts';

type ReleaseRequest = ReturnType<typeof decodeRelease>;
type PutRequest = ReturnType<typeof decodePut>;
type ListRequest = ReturnType<typeof decodeList>;
type RevokeRequest = ReturnType<typeof decodeRevoke>;
type RotateRequest = ReturnType<typeof decodeRotate>;

/** What the vault needs: its keys, its store, and a way to make an event durable on JetStream. */
export interface VaultDeps {
  keyring: Keyring;
  store: VaultStore;
  /** Publishes to JetStream and resolves on the ack (the bus's `publishEvent`). */
  publishEvent(event: TameFlareEvent): Promise<unknown>;
  /** `vault@<instance>`, recorded as every event's source. */
  source: string;
  sealer?: Sealer;
  /** Lifecycle operations are logged here, with metadata only. */
  log?: { info(obj: object, msg?: string): void };
}

/** Per-message context the handlers use (the bus passes the W3C trace context). */
export interface CallContext {
  traceparent?: string | undefined;
}

/** The vault's command handlers. Each throws a TameFlareError (`TF_ERR_VAULT_*`) on bad input and changes nothing. */
export interface Vault {
  release(req: ReleaseRequest, ctx?: CallContext): Promise<VaultReleaseReply>;
  putSecret(req: PutRequest, ctx?: CallContext): Promise<VaultSecretPutReply>;
  listSecrets(req: ListRequest): Promise<VaultSecretListReply>;
  revokeSecret(req: RevokeRequest, ctx?: CallContext): Promise<VaultSecretRevokeReply>;
  rotateMasterKey(req: RotateRequest, ctx?: CallContext): Promise<VaultMasterKeyRotateReply>;
  publicKey(): VaultPublicKeyReply;
}

function missing(gatewayId: string, name: string, why: string) {
  return vaultError(VaultErrorCode.SecretMissing, `secret "${name}" ${why} on gateway "${gatewayId}"; set it with: tf secret set ${name}`, {
    details: { gatewayId, secretName: name },
  });
}

export function createVault(deps: VaultDeps): Vault {
  const sealer = deps.sealer ?? createSealer();
  const { keyring, store } = deps;
  const meta = (correlationId: string, ctx: CallContext | undefined, causationId: string | null = null) => ({
    correlationId,
    causationId,
    traceparent: ctx?.traceparent ?? null,
    source: deps.source,
  });

  /** Opens a value sealed to the transport key of the current master key, or of a previous one (a CLI that fetched the key just before a rotation). */
  const openPut = (req: PutRequest): Buffer => {
    const aad = secretPutAad(req.gatewayId, req.name);
    let last: unknown;
    for (const mk of [keyring.current, ...keyring.previous]) {
      try {
        return open(req.box, mk.transportPrivateKey, aad);
      } catch (err) {
        if (!isTameFlareError(err, VaultErrorCode.OpenFailed)) throw err;
        last = err;
      }
    }
    throw vaultError(VaultErrorCode.OpenFailed, `the value of secret "${req.name}" was not sealed to this vault's key for gateway "${req.gatewayId}"; fetch tf.cmd.vault.public_key and seal again`, {
      cause: last,
      details: { gatewayId: req.gatewayId, secretName: req.name },
    });
  };

  return {
    async release(req, ctx) {
      const row = await findReleasable(store.db, req.gatewayId, req.secretName);
      if (!row) throw missing(req.gatewayId, req.secretName, 'is not set (or was revoked)');
      const binding = { actionId: req.actionId, ingressId: req.ingress.id, secretName: req.secretName, secretVersion: row.version };
      const value = decryptSecret(row, keyring, { gatewayId: req.gatewayId, secretId: row.secretId, version: row.version });
      let credential;
      try {
        credential = sealCredential(value, req.ingress.publicKey, binding, req.injection, sealer);
      } finally {
        value.fill(0);
      }
      const event = createEvent(
        'CredentialReleased',
        {
          actionId: req.actionId,
          gatewayId: req.gatewayId,
          agentId: req.agentId,
          runId: req.runId,
          approvalId: req.approvalId,
          connector: req.connector,
          secretId: row.secretId,
          secretName: req.secretName,
          secretVersion: row.version,
          injection: req.injection,
          ingressId: req.ingress.id,
        },
        meta(req.actionId, ctx, req.authorizedBy),
      );
      // The release is on record (JetStream ack, file storage) before anyone can use the credential.
      await deps.publishEvent(event);
      return { credential };
    },

    async putSecret(req, ctx) {
      const value = openPut(req);
      try {
        validateSecretValue(value, `secret "${req.name}"`);
        return await store.transaction(async (tx) => {
          const locked = await lockSecret(tx.client, req.gatewayId, req.name, randomUUID());
          const exists = locked.currentVersion > 0;
          if (req.mode === 'rotate' && (!exists || locked.revoked)) {
            throw missing(req.gatewayId, req.name, exists ? 'was revoked, so it cannot be rotated (use tf secret set)' : 'is not set, so it cannot be rotated');
          }
          const version = locked.currentVersion + 1;
          const record = encryptSecret(value, keyring.current, { gatewayId: req.gatewayId, secretId: locked.secretId, version });
          await insertVersion(tx.client, { secretId: locked.secretId, version, record, byteLength: value.length, source: req.source, createdBy: req.actor });
          const ref = { secretId: locked.secretId, name: req.name, gatewayId: req.gatewayId };
          const common = { byteLength: value.length, source: req.source, masterKeyId: keyring.current.id };
          const m = meta(locked.secretId, ctx);
          const event: EventEnvelope<'SecretStored' | 'SecretRotated'> =
            exists && !locked.revoked
              ? createEvent('SecretRotated', { ...ref, ...common, version, previousVersion: locked.currentVersion, rotatedBy: req.actor }, m)
              : createEvent('SecretStored', { ...ref, ...common, version, storedBy: req.actor }, m);
          await tx.record([event as TameFlareEvent]);
          return { secretId: locked.secretId, name: req.name, version, event: event.type };
        }).then(({ event, ...reply }) => {
          deps.log?.info({ gatewayId: req.gatewayId, secretName: req.name, version: reply.version, byteLength: value.length, source: req.source, actor: req.actor }, event === 'SecretStored' ? 'secret stored' : 'secret rotated');
          return reply;
        });
      } finally {
        value.fill(0);
      }
    },

    async listSecrets(req) {
      return { secrets: await listMetadata(store.db, { gatewayId: req.gatewayId, includeRevoked: req.includeRevoked ?? false }) };
    },

    async revokeSecret(req, ctx) {
      const { secretId, revokedNow } = await store.transaction(async (tx) => {
        const locked = await lockSecret(tx.client, req.gatewayId, req.name, randomUUID());
        if (locked.currentVersion === 0) throw missing(req.gatewayId, req.name, 'is not set');
        if (!locked.revoked) {
          await markRevoked(tx.client, locked.secretId, req.actor);
          await tx.record([createEvent('SecretRevoked', { secretId: locked.secretId, name: req.name, gatewayId: req.gatewayId, revokedBy: req.actor }, meta(locked.secretId, ctx))]);
        }
        return { secretId: locked.secretId, revokedNow: !locked.revoked };
      });
      if (revokedNow) deps.log?.info({ gatewayId: req.gatewayId, secretName: req.name, actor: req.actor }, 'secret revoked');
      return { secretId, name: req.name, revoked: true as const };
    },

    async rotateMasterKey(req, ctx) {
      return store.transaction(async (tx) => {
        const rows = await lockStaleVersions(tx.client, keyring.current.id);
        const counts = new Map<string, number>();
        for (const row of rows) {
          const next = rewrapDataKey(row, keyring, { gatewayId: row.gatewayId, secretId: row.secretId, version: row.version });
          await updateWrappedKey(tx.client, { secretId: row.secretId, version: row.version, wrappedKey: next.wrappedKey, masterKeyId: next.masterKeyId });
          counts.set(row.masterKeyId, (counts.get(row.masterKeyId) ?? 0) + 1);
        }
        const rotationId = randomUUID();
        const events = [...counts].map(([previous, n]) =>
          createEvent('MasterKeyRotated', { masterKeyId: keyring.current.id, previousMasterKeyId: previous, rewrappedDataKeys: n, rotatedBy: req.actor }, meta(rotationId, ctx)),
        );
        if (events.length) await tx.record(events);
        deps.log?.info({ masterKeyId: keyring.current.id, rewrapped: Object.fromEntries(counts), actor: req.actor }, 'master key rotation: data keys re-wrapped');
        return { masterKeyId: keyring.current.id, previousMasterKeyIds: [...counts.keys()], rewrappedDataKeys: rows.length };
      });
    },

    publicKey() {
      return { publicKey: keyring.current.transportPublicKey, keyId: keyring.current.id };
    },
  };
}
