import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Commands, inboxPrefixFor, natsAuthorizationConfig, natsPermissions, natsServerConfig, natsUsers, type NatsUser } from './index.ts';

/** NATS subject matching: `*` one token, `>` one or more trailing tokens. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
const may = (u: NatsUser, op: 'publish' | 'subscribe', subject: string) => {
  const r = natsPermissions[u][op];
  return r.allow.some((a) => matches(a, subject)) && !r.deny.some((d) => matches(d, subject));
};

describe('NATS permission matrix', () => {
  it('only the policy and approval services may ask the vault for a credential', () => {
    const allowed = natsUsers.filter((u) => may(u, 'publish', Commands.vaultRelease.subject));
    expect(allowed).toEqual(['policy', 'approval']);
  });

  it('only the vault may listen to vault commands', () => {
    for (const c of Object.values(Commands).filter((c) => c.queue === 'vault')) {
      expect(natsUsers.filter((u) => may(u, 'subscribe', c.subject)), c.subject).toEqual(['vault', 'admin']);
    }
    expect(may('admin', 'publish', Commands.vaultRelease.subject)).toBe(false);
  });

  it('gives each user its own inbox and no one else’s', () => {
    for (const u of natsUsers) {
      expect(may(u, 'subscribe', `${inboxPrefixFor(u)}.abc.1`)).toBe(true);
      for (const other of natsUsers.filter((o) => o !== u && u !== 'admin')) {
        expect(may(u, 'subscribe', `${inboxPrefixFor(other)}.abc.1`), `${u} reads ${other}`).toBe(false);
      }
      if (u !== 'admin') expect(may(u, 'subscribe', '_INBOX.abc.1'), u).toBe(false);
    }
  });

  it('limits the ingress to what it records: no release, no credential event, no commands to serve', () => {
    expect(may('ingress', 'publish', 'tf.evt.action.requested.default')).toBe(true);
    expect(may('ingress', 'publish', 'tf.evt.action.completed.default')).toBe(true);
    expect(may('ingress', 'publish', 'tf.evt.action.credential_released.default')).toBe(false);
    expect(may('ingress', 'publish', 'tf.cmd.vault.secret.put')).toBe(false);
    expect(may('ingress', 'subscribe', 'tf.cmd.policy.decide')).toBe(false);
    expect(may('ingress', 'publish', '$KV.tf_killswitch.all')).toBe(false);
  });

  it('lets the vault publish its CredentialReleased events and answer requests, nothing else', () => {
    const v = natsPermissions.vault;
    expect(v.allowResponses).toBe(true);
    expect(v.publish.allow.filter((s) => s.startsWith('tf.'))).toEqual(['tf.evt.action.credential_released.*']);
  });

  it('gives other tools read-only access to approval and decision events', () => {
    expect(may('external', 'subscribe', 'tf.evt.approval.requested.default')).toBe(true);
    expect(may('external', 'subscribe', 'tf.evt.action.decided.default')).toBe(true);
    expect(may('external', 'subscribe', 'tf.evt.action.requested.default')).toBe(false);
    expect(may('external', 'subscribe', 'tf.evt.action.credential_released.default')).toBe(false);
    expect(natsPermissions.external.publish.allow.some((s) => s.startsWith('tf.'))).toBe(false);
    expect(may('external', 'publish', '$JS.API.CONSUMER.CREATE.TF_EVENTS.mine.tf.evt.approval.>')).toBe(true);
    expect(may('external', 'publish', '$JS.API.CONSUMER.CREATE.TF_EVENTS.mine.tf.evt.>')).toBe(false);
    expect(may('external', 'publish', '$JS.API.CONSUMER.MSG.NEXT.TF_EVENTS.tf-recorder')).toBe(false);
  });
});

describe('nats-server configuration generator', () => {
  it('refuses missing, short or unquotable passwords', () => {
    expect(() => natsAuthorizationConfig({ passwords: {}, users: ['vault'] })).toThrow(/password for user vault/);
    expect(() => natsAuthorizationConfig({ passwords: { vault: 'short' }, users: ['vault'] })).toThrow(/password/);
    expect(() => natsAuthorizationConfig({ passwords: { vault: 'has"quote-and-long-enough' }, users: ['vault'] })).toThrow(/password/);
    expect(natsAuthorizationConfig({ passwords: { vault: 'A'.repeat(24) }, users: ['vault'] })).toContain(`password: "${'A'.repeat(24)}"`);
  });

  it('references environment variables instead of writing passwords when asked', () => {
    const conf = natsServerConfig({ passwords: 'env' });
    expect(conf).toContain('password: $TF_NATS_PASSWORD_AUDIT_API');
    expect(conf).toContain('allow_responses: { max: 1, expires: "1m" }');
  });

  it('matches the checked-in infra/nats/nats-server.conf (regenerate with node infra/nats/generate.ts)', () => {
    const path = fileURLToPath(new URL('../../../infra/nats/nats-server.conf', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(natsServerConfig({ passwords: 'env' }));
  });
});
