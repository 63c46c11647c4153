import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, isTameFlareError, type SecretMetadata, type VaultReleaseReply, type VaultSecretPutRequest } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { MAX_SECRET_BYTES, VaultErrorCode, generateMasterKey, openCredential, sealSecretValue } from '@tameflare/vault-crypto';
import { keyringOf, releaseRequest, startVault, streamEvents, type VaultHarness } from './test/support.ts';

const oldKey = generateMasterKey();
const newKey = generateMasterKey();
const githubToken = 'ghp_vaultIntegrationToken0123456789abcdef';
const stripeKey = 'sk_test_vaultIntegration_51Habcdefghij';

let nats: TestNatsServer;
let db: TestDatabase;
let vault: VaultHarness;
let client: Bus;
let sql: pg.Client;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isTameFlareError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected a failure');
}

async function put(name: string, value: string, mode: 'set' | 'rotate' = 'set', gatewayId = 'default') {
  const pk = await client.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
  const req: VaultSecretPutRequest = { gatewayId, name, box: sealSecretValue(value, pk.publicKey, { gatewayId, name }), source: 'stdin', actor: 'alice', mode };
  return client.request<{ secretId: string; name: string; version: number }>(Commands.vaultSecretPut, req);
}

async function release(name: string, gatewayId = 'default') {
  const { req, ingress } = releaseRequest(name, { gatewayId });
  const reply = await client.request<VaultReleaseReply>(Commands.vaultRelease, req);
  return { reply, req, value: openCredential(reply.credential, ingress.privateKey, { actionId: req.actionId, ingressId: req.ingress.id }) };
}

const list = async (gatewayId?: string) => (await client.request<{ secrets: SecretMetadata[] }>(Commands.vaultSecretList, gatewayId ? { gatewayId } : {})).secrets;
// Straight from the table: readAll only returns what lies below every open transaction of the
// whole server (its ordering barrier), which a concurrent test elsewhere can hold back for a while.
const allStored = async () =>
  (await sql.query(`SELECT event_type AS type, data FROM "${vault.store.schema}".events ORDER BY global_position`)).rows.map((r: { type: string; data: unknown }) => ({ event: r }));
const storedEvents = async (type: string) => (await allStored()).filter((r) => r.event.type === type).map((r) => r.event.data as Record<string, unknown>);

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase('vault');
  vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(oldKey) });
  client = await connectBus({ servers: nats.url, name: 'policy@test', requestTimeoutMs: 5000 });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await client?.close();
  await vault?.stop();
  await sql?.end();
  await db?.drop();
  await nats?.dispose();
});

describe('vault service over NATS and PostgreSQL', () => {
  it('stores a secret sealed in transit, lists metadata only, and records SecretStored without the value', async () => {
    const stored = await put('github', githubToken);
    expect(stored).toMatchObject({ name: 'github', version: 1 });
    const secrets = await list('default');
    expect(secrets).toEqual([expect.objectContaining({ name: 'github', gatewayId: 'default', version: 1, byteLength: githubToken.length, revoked: false })]);
    expect(JSON.stringify(secrets)).not.toContain(githubToken);
    const [ev] = await storedEvents('SecretStored');
    expect(ev).toMatchObject({ secretId: stored.secretId, name: 'github', version: 1, source: 'stdin', storedBy: 'alice', masterKeyId: expect.stringMatching(/^mk_/) });
    expect(Object.keys(ev!).sort()).toEqual(['byteLength', 'gatewayId', 'masterKeyId', 'name', 'secretId', 'source', 'storedBy', 'version']);
    const row = (await sql.query(`SELECT ciphertext, wrapped_key FROM tf_vault.secret_versions WHERE secret_id = $1`, [stored.secretId])).rows[0];
    expect(Buffer.from(row.ciphertext).includes(Buffer.from(githubToken))).toBe(false);
  });

  it('releases the credential sealed to the asking ingress only, after CredentialReleased is in JetStream', async () => {
    const { reply, req, value } = await release('github');
    expect(value).toBe(githubToken);
    expect(reply.credential).toMatchObject({ secretName: 'github', secretVersion: 1, injection: { kind: 'bearer' } });
    expect(JSON.stringify(reply)).not.toContain(githubToken);
    // Another ingress instance, even holding the box, cannot open it.
    const other = releaseRequest('github');
    expect(() => openCredential(reply.credential, other.ingress.privateKey, { actionId: req.actionId, ingressId: req.ingress.id })).toThrow(/does not open/);

    const released = (await streamEvents(client, 'tf.evt.action.credential_released.>')).filter((e) => (e.data as { actionId?: string }).actionId === req.actionId);
    expect(released).toHaveLength(1);
    expect(released[0]!.metadata.causationId).toBe(req.authorizedBy);
    expect(released[0]!.data).toEqual({
      actionId: req.actionId,
      gatewayId: 'default',
      agentId: 'test-agent',
      runId: req.runId,
      approvalId: null,
      connector: 'github',
      secretId: expect.any(String),
      secretName: 'github',
      secretVersion: 1,
      injection: { kind: 'bearer' },
      ingressId: req.ingress.id,
    });
  });

  it('rotates a secret: a new version, SecretRotated, and releases of the new value', async () => {
    const rotated = await put('github', `${githubToken}-v2`, 'rotate');
    expect(rotated.version).toBe(2);
    const { value, reply } = await release('github');
    expect(value).toBe(`${githubToken}-v2`);
    expect(reply.credential.secretVersion).toBe(2);
    expect(await storedEvents('SecretRotated')).toEqual([expect.objectContaining({ name: 'github', version: 2, previousVersion: 1, rotatedBy: 'alice' })]);
  });

  it('answers bad input with a clear error and changes nothing', async () => {
    const before = await list();
    const eventsBefore = (await allStored()).length;

    const unknown = await failure(release('no-such-secret'));
    expect(unknown).toMatchObject({ code: VaultErrorCode.SecretMissing, details: { secretName: 'no-such-secret', gatewayId: 'default' } });
    expect(unknown.message).toContain('"no-such-secret"');
    expect(await failure(release('github', 'other-gateway'))).toMatchObject({ code: VaultErrorCode.SecretMissing });
    expect(await failure(put('stripe', stripeKey, 'rotate'))).toMatchObject({ code: VaultErrorCode.SecretMissing });

    const big = await failure(put('big', 'x'.repeat(MAX_SECRET_BYTES + 1)));
    expect(big).toMatchObject({ code: VaultErrorCode.SecretTooLarge, message: expect.stringContaining(`limit is ${MAX_SECRET_BYTES}`) });
    expect(await failure(put('crlf', 'token-value\r\nX-Injected: 1'))).toMatchObject({ code: VaultErrorCode.SecretInvalid });

    // A value sealed for another name cannot be stored under this one.
    const pk = await client.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
    const misbound = { gatewayId: 'default', name: 'stripe', box: sealSecretValue(stripeKey, pk.publicKey, { gatewayId: 'default', name: 'github' }), source: 'api', actor: 'mallory', mode: 'set' };
    expect(await failure(client.request(Commands.vaultSecretPut, misbound))).toMatchObject({ code: VaultErrorCode.OpenFailed });
    expect(await failure(client.request(Commands.vaultRelease, { secretName: 'github' }))).toMatchObject({ code: 'TF_ERR_CONTRACT_SCHEMA' });

    expect(await list()).toEqual(before);
    expect((await allStored()).length).toBe(eventsBefore);
  });

  it('revokes: no more releases, SecretRevoked recorded; setting it again brings it back as a new version', async () => {
    await put('stripe', stripeKey);
    await client.request(Commands.vaultSecretRevoke, { gatewayId: 'default', name: 'stripe', actor: 'bob' });
    expect(await failure(release('stripe'))).toMatchObject({ code: VaultErrorCode.SecretMissing, details: { secretName: 'stripe' } });
    expect(await list()).not.toContainEqual(expect.objectContaining({ name: 'stripe' }));
    expect(await client.request<{ secrets: SecretMetadata[] }>(Commands.vaultSecretList, { includeRevoked: true })).toMatchObject({
      secrets: expect.arrayContaining([expect.objectContaining({ name: 'stripe', revoked: true })]),
    });
    expect(await storedEvents('SecretRevoked')).toEqual([expect.objectContaining({ name: 'stripe', revokedBy: 'bob' })]);
    expect(await failure(client.request(Commands.vaultSecretRevoke, { gatewayId: 'default', name: 'nope', actor: 'bob' }))).toMatchObject({ code: VaultErrorCode.SecretMissing });

    expect((await put('stripe', `${stripeKey}-new`)).version).toBe(2);
    expect((await release('stripe')).value).toBe(`${stripeKey}-new`);
  });

  it('refuses to release a ciphertext moved to another row (AAD), and records no release', async () => {
    await put('slack', 'xoxb-slack-token-for-the-aad-test');
    const ids = (await sql.query(`SELECT name, secret_id FROM tf_vault.secrets WHERE name IN ('slack', 'stripe')`)).rows;
    const slack = ids.find((r) => r.name === 'slack').secret_id;
    const stripe = ids.find((r) => r.name === 'stripe').secret_id;
    const saved = (await sql.query(`SELECT ciphertext, wrapped_key FROM tf_vault.secret_versions WHERE secret_id = $1 AND version = 1`, [slack])).rows[0];
    // Stripe's current version (2) moved onto slack's row, data key and all.
    await sql.query(
      `UPDATE tf_vault.secret_versions t SET ciphertext = s.ciphertext, wrapped_key = s.wrapped_key FROM tf_vault.secret_versions s WHERE t.secret_id = $1 AND t.version = 1 AND s.secret_id = $2 AND s.version = 2`,
      [slack, stripe],
    );
    const before = (await streamEvents(client, 'tf.evt.action.credential_released.>')).length;
    expect(await failure(release('slack'))).toMatchObject({ code: VaultErrorCode.DecryptFailed });
    expect((await streamEvents(client, 'tf.evt.action.credential_released.>')).length).toBe(before);
    await sql.query(`UPDATE tf_vault.secret_versions SET ciphertext = $2, wrapped_key = $3 WHERE secret_id = $1 AND version = 1`, [slack, saved.ciphertext, saved.wrapped_key]);
    expect((await release('slack')).value).toBe('xoxb-slack-token-for-the-aad-test');
  });

  it('does not release a credential whose release cannot be recorded (JetStream down for this stream)', async () => {
    const jsm = await jetstreamManager(client.nc);
    await jsm.streams.delete('TF_EVENTS');
    try {
      expect(await failure(release('github'))).toMatchObject({ code: 'TF_ERR_JETSTREAM_NOT_ACKED' });
    } finally {
      await client.ensureStreams();
    }
    expect((await release('github')).value).toBe(`${githubToken}-v2`);
  });

  it('rotates the master key: data keys re-wrapped, MasterKeyRotated recorded, every secret still readable with the new key alone', async () => {
    const versions = (await sql.query(`SELECT secret_id, version, ciphertext FROM tf_vault.secret_versions ORDER BY 1, 2`)).rows;
    // Start the next vault with the new key as current and the old one as previous, as an operator would.
    await vault.stop();
    vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(newKey, oldKey) });
    const r = await client.request<{ masterKeyId: string; previousMasterKeyIds: string[]; rewrappedDataKeys: number }>(Commands.vaultMasterKeyRotate, { actor: 'ops' });
    expect(r.rewrappedDataKeys).toBe(versions.length);
    expect(r.previousMasterKeyIds).toEqual([keyringOf(oldKey).current.id]);
    expect(r.masterKeyId).toBe(keyringOf(newKey).current.id);
    expect(await storedEvents('MasterKeyRotated')).toEqual([
      { masterKeyId: r.masterKeyId, previousMasterKeyId: keyringOf(oldKey).current.id, rewrappedDataKeys: versions.length, rotatedBy: 'ops' },
    ]);
    const after = (await sql.query(`SELECT secret_id, version, ciphertext, master_key_id FROM tf_vault.secret_versions ORDER BY 1, 2`)).rows;
    expect(after.map((x) => Buffer.from(x.ciphertext).toString('hex'))).toEqual(versions.map((x) => Buffer.from(x.ciphertext).toString('hex')));
    expect(new Set(after.map((x) => x.master_key_id))).toEqual(new Set([r.masterKeyId]));
    expect((await client.request<{ rewrappedDataKeys: number }>(Commands.vaultMasterKeyRotate, { actor: 'ops' })).rewrappedDataKeys).toBe(0);

    await vault.stop();
    vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(newKey) });
    expect((await release('github')).value).toBe(`${githubToken}-v2`);
    expect((await release('stripe')).value).toBe(`${stripeKey}-new`);
    expect((await release('slack')).value).toBe('xoxb-slack-token-for-the-aad-test');
  });

  it('fails clearly with the wrong master key, and releases nothing', async () => {
    await vault.stop();
    vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(generateMasterKey()) });
    const f = await failure(release('github'));
    expect(f).toMatchObject({ code: VaultErrorCode.MasterKeyUnknown, message: expect.stringContaining('not loaded') });
    await vault.stop();
    vault = await startVault({ natsUrl: nats.url, databaseUrl: db.url, keyring: keyringOf(newKey) });
  });
});
