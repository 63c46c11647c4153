/**
 * The vault process: `node services/vault/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL, and the master key:
 * TF_VAULT_MASTER_KEY (base64 of 32 bytes) or TF_VAULT_MASTER_KEY_FILE (mode 0600 or stricter),
 * plus TF_VAULT_PREVIOUS_MASTER_KEYS / TF_VAULT_PREVIOUS_MASTER_KEY_FILES during a rotation.
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema, Secret } from '@tameflare/config';
import { createPostgresEventStore } from '@tameflare/event-store';
import { runService } from '@tameflare/service-kit';
import { loadKeyring } from '@tameflare/vault-crypto';
import { countByMasterKey } from './repository.ts';
import { migrateVault } from './schema.ts';
import { serveVault } from './serve-vault.ts';
import { createVault } from './vault.ts';
import { postgresVaultStore } from './vault-store.ts';

const VaultConfigSchema = Type.Object({
  database: DatabaseConfigSchema,
  vault: Type.Object({
    masterKey: Type.Optional(Secret({ description: 'base64 of 32 random bytes' })),
    masterKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    previousMasterKeys: Type.Optional(Type.Array(Secret())),
    previousMasterKeyFiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  }),
});

await runService({
  name: 'vault',
  configSchema: VaultConfigSchema,
  async start(ctx) {
    const keyring = loadKeyring(ctx.config.vault);
    const store = createPostgresEventStore({
      connectionString: ctx.config.database.url,
      applicationName: 'tameflare-vault',
      onError: (err) => ctx.logger.warn({ err }, 'idle PostgreSQL connection failed'),
    });
    ctx.onShutdown(() => store.close());
    await store.migrate();
    await migrateVault(store.pool);
    await ctx.bus.ensureStreams();
    const vault = createVault({
      keyring,
      store: postgresVaultStore(store),
      publishEvent: (e) => ctx.bus.publishEvent(e),
      source: `vault@${ctx.instanceId}`,
      log: ctx.logger,
    });
    await serveVault(ctx.bus, vault);
    const byKey = await countByMasterKey(store.pool);
    ctx.logger.info({ masterKeyId: keyring.current.id, previousMasterKeyIds: keyring.previous.map((k) => k.id), dataKeysByMasterKey: byKey }, 'vault keys loaded');
    const stale = Object.entries(byKey).filter(([id]) => id !== keyring.current.id);
    if (stale.length) {
      const missing = stale.filter(([id]) => !keyring.get(id)).map(([id]) => id);
      ctx.logger.warn(
        { stale: Object.fromEntries(stale), notLoaded: missing },
        missing.length
          ? `data keys are wrapped under master keys that are not loaded (${missing.join(', ')}): those secrets cannot be released; load them as previous master keys`
          : 'data keys are still wrapped under a previous master key: run tf secret rotate-master-key',
      );
    }
  },
});
