/**
 * The NATS permission matrix (libs/contracts/src/permissions.ts), enforced by a real nats-server
 * started with the generated authorization block: forbidden subscribes and publishes are
 * refused, allowed ones work, and unauthenticated clients are turned away.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Buckets, Commands, Consumers, Streams, inboxPrefixFor, natsAuthorizationConfig, natsUsers, type NatsUser } from '@tameflare/contracts';
import { startNatsServer, type TestNatsServer } from '@tameflare/testing';

const passwords = Object.fromEntries(natsUsers.map((u) => [u, randomBytes(18).toString('base64url')])) as Record<NatsUser, string>;
let nats: TestNatsServer;
const open: NatsConnection[] = [];

async function as(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url, user, pass: passwords[user], inboxPrefix: inboxPrefixFor(user), name: `test-${user}` });
  open.push(nc);
  return nc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Subscribes and reports whether the server refused the subscription. */
async function subscribeRefused(nc: NatsConnection, subject: string, queue?: string): Promise<boolean> {
  const sub = nc.subscribe(subject, queue ? { queue } : {});
  const r = await Promise.race([sub.closed, nc.flush().then(() => sleep(300)).then(() => 'open' as const)]);
  if (r === 'open') {
    sub.unsubscribe();
    return false;
  }
  return r instanceof Error && r.name === 'PermissionViolationError';
}

/** Publishes and reports whether the server refused it, checking that a listener with full rights did not get it. */
async function publishRefused(nc: NatsConnection, subject: string, witness: NatsConnection): Promise<boolean> {
  const got: string[] = [];
  const sub = witness.subscribe(subject, {
    callback: (_e, m) => {
      got.push(m.subject);
    },
  });
  await witness.flush();
  let refused = false;
  const watching = (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error.name === 'PermissionViolationError' && (s.error as { subject?: string }).subject === subject) {
        refused = true;
        return;
      }
    }
  })();
  nc.publish(subject, 'probe');
  await nc.flush();
  await Promise.race([watching, sleep(500)]);
  await witness.flush();
  sub.unsubscribe();
  if (refused !== (got.length === 0)) throw new Error(`inconsistent: refused=${refused} but witness got ${got.length}`);
  return refused;
}

let admin: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer({ extraConfig: natsAuthorizationConfig({ passwords }) });
  admin = await as('admin');
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({ name: Streams.events.name, subjects: [...Streams.events.subjects] });
  await new Kvm(admin).create(Buckets.killSwitch);
});

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await nats?.dispose();
});

describe('NATS authentication', () => {
  it('refuses a client without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: nats.url, user: 'vault', pass: passwords.ingress, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  });
});

describe('NATS least privilege, enforced by nats-server', () => {
  it('the ingress cannot listen to vault commands, nor read another user’s inbox', async () => {
    const ingress = await as('ingress');
    expect(await subscribeRefused(ingress, Commands.vaultRelease.subject)).toBe(true);
    expect(await subscribeRefused(ingress, Commands.vaultRelease.subject, Commands.vaultRelease.queue)).toBe(true);
    expect(await subscribeRefused(ingress, 'tf.cmd.vault.>')).toBe(true);
    expect(await subscribeRefused(ingress, `${inboxPrefixFor('policy')}.>`)).toBe(true);
    expect(await subscribeRefused(ingress, '_INBOX.>')).toBe(true);
    expect(await subscribeRefused(ingress, '>')).toBe(true);
    // Allowed: approval events it waits on, and its own inbox.
    expect(await subscribeRefused(ingress, 'tf.evt.approval.granted.default')).toBe(false);
  });

  it('the ingress cannot ask the vault for a credential, nor record a release, nor write the kill switch', async () => {
    const ingress = await as('ingress');
    expect(await publishRefused(ingress, Commands.vaultRelease.subject, admin)).toBe(true);
    expect(await publishRefused(ingress, Commands.vaultSecretPut.subject, admin)).toBe(true);
    expect(await publishRefused(ingress, 'tf.evt.action.credential_released.default', admin)).toBe(true);
    expect(await publishRefused(ingress, `$KV.${Buckets.killSwitch}.all`, admin)).toBe(true);
    expect(await publishRefused(ingress, 'tf.evt.action.requested.default', admin)).toBe(false);
    // A request to the vault fails at once with a permission error instead of reaching it.
    await expect(ingress.request(Commands.vaultRelease.subject, '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation/i);
  });

  it('policy can ask the vault; the vault answers through allow_responses and may publish nothing else', async () => {
    const vault = await as('vault');
    const policy = await as('policy');
    const seen: string[] = [];
    vault.subscribe(Commands.vaultRelease.subject, {
      queue: Commands.vaultRelease.queue,
      callback: (_e, m: Msg) => {
        seen.push(m.string());
        m.respond('sealed');
      },
    });
    await vault.flush();
    const reply = await policy.request(Commands.vaultRelease.subject, 'from-policy', { timeout: 2000 });
    expect(reply.string()).toBe('sealed');
    expect(seen).toEqual(['from-policy']);

    const approval = await as('approval');
    expect((await approval.request(Commands.vaultRelease.subject, 'from-approval', { timeout: 2000 })).string()).toBe('sealed');

    // Publishing outside a reply: refused, even onto the policy service's inbox.
    expect(await publishRefused(vault, `${inboxPrefixFor('policy')}.forged.1`, admin)).toBe(true);
    expect(await publishRefused(vault, 'tf.evt.action.decided.default', admin)).toBe(true);
    expect(await publishRefused(vault, 'tf.evt.action.credential_released.default', admin)).toBe(false);
  });

  it('control, audit-api, the recorder and even admin cannot request a release; audit-api may list secrets', async () => {
    for (const u of ['control', 'audit-api', 'recorder', 'projector', 'admin', 'external'] as const) {
      const nc = await as(u);
      expect(await publishRefused(nc, Commands.vaultRelease.subject, u === 'admin' ? await as('vault') : admin), u).toBe(true);
    }
    expect(await publishRefused(await as('audit-api'), Commands.vaultSecretList.subject, admin)).toBe(false);
  });

  it('the recorder relays control-plane events but cannot forge a decision', async () => {
    const recorder = await as('recorder');
    expect(await publishRefused(recorder, 'tf.evt.action.decided.default', admin)).toBe(true);
    expect(await publishRefused(recorder, 'tf.evt.approval.granted.default', admin)).toBe(false);
  });

  it('JetStream: the ingress publishes request-path events with an ack and watches the kill switch; it cannot change a stream', async () => {
    const ingress = await as('ingress');
    const ack = await jetstream(ingress).publish('tf.evt.action.requested.default', '{}');
    expect(ack.stream).toBe(Streams.events.name);

    const control = await as('control');
    const kvControl = await new Kvm(control).open(Buckets.killSwitch);
    const kvIngress = await new Kvm(ingress).open(Buckets.killSwitch);
    const watch = await kvIngress.watch();
    await kvControl.put('all', '{"engaged":true}');
    for await (const e of watch) {
      expect(e.key).toBe('all');
      break;
    }
    expect((await kvIngress.get('all'))?.string()).toBe('{"engaged":true}');
    await expect(kvIngress.put('all', 'released')).rejects.toThrow(/Permissions Violation/i);

    const jsm = await jetstreamManager(ingress);
    await expect(jsm.streams.update(Streams.events.name, { max_msgs: 1 })).rejects.toThrow(/Permissions Violation/i);
    await expect(jsm.streams.delete(Streams.events.name)).rejects.toThrow(/Permissions Violation/i);
  });

  it('external tools: read-only consumers limited to approval and decision events', async () => {
    const ext = await as('external');
    expect(await subscribeRefused(ext, 'tf.evt.approval.>')).toBe(false);
    expect(await subscribeRefused(ext, 'tf.evt.action.decided.>')).toBe(false);
    expect(await subscribeRefused(ext, 'tf.evt.action.>')).toBe(true);
    expect(await subscribeRefused(ext, 'tf.evt.>')).toBe(true);
    expect(await publishRefused(ext, 'tf.evt.approval.granted.default', admin)).toBe(true);
    expect(await publishRefused(ext, Commands.approvalVote.subject, admin)).toBe(true);

    await jetstream(admin).publish('tf.evt.approval.granted.default', '{"n":1}');
    await jetstream(admin).publish('tf.evt.action.credential_released.default', '{"n":2}');
    const jsm = await jetstreamManager(ext);
    await jsm.consumers.add(Streams.events.name, { name: 'slack-bot', durable_name: 'slack-bot', filter_subject: 'tf.evt.approval.>', ack_policy: AckPolicy.Explicit });
    const m = await (await jetstream(ext).consumers.get(Streams.events.name, 'slack-bot')).next({ expires: 2000 });
    expect(m?.subject).toBe('tf.evt.approval.granted.default');
    m?.ack();

    // A consumer over everything, or over the recorder's durable, is refused.
    await expect(jsm.consumers.add(Streams.events.name, { name: 'siphon', filter_subject: 'tf.evt.>', ack_policy: AckPolicy.None })).rejects.toThrow(/Permissions Violation/i);
    await expect(jsm.consumers.add(Streams.events.name, { name: 'sneaky', filter_subject: 'tf.evt.action.credential_released.>', ack_policy: AckPolicy.None })).rejects.toThrow(/Permissions Violation/i);
    await jetstreamManager(admin).then((a) => a.consumers.add(Consumers.recorder.stream, { durable_name: Consumers.recorder.durable, filter_subject: Consumers.recorder.filterSubject, ack_policy: AckPolicy.Explicit }));
    expect(await publishRefused(ext, `$JS.API.CONSUMER.MSG.NEXT.${Consumers.recorder.stream}.${Consumers.recorder.durable}`, admin)).toBe(true);
  });
});
