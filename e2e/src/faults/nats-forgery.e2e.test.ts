/**
 * Least privilege on the stack's NATS, as `tf up` runs it: a process on the same machine tries to
 * forge an allow decision for a request the policy denies, and to read credentials.
 *
 * - Without credentials (an agent has none: `tf run` gives it a run token and proxy variables
 *   only) the server refuses the connection, whether through a client library or a raw socket
 *   speaking the protocol.
 * - With the least-privileged real credentials a tool may hold (the `external` user of the
 *   permission matrix, for Slack bots and SIEMs), publishing a decision event, answering policy
 *   requests, replying into the ingress's inboxes and subscribing to vault commands or credential
 *   releases are each refused by the server.
 * - All the while, the agent's denied request stays denied (403) and never reaches the upstream.
 */
import { statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, inboxPrefixFor, uuidv7 } from '@tameflare/contracts';
import { readNatsPasswords, statePaths } from '@tameflare/stack';
import { waitFor } from '@tameflare/testing';
import { startTfStack, type TfStack } from '../harness/index.ts';

let stack: TfStack;
let run: Awaited<ReturnType<TfStack['startRun']>>;

beforeAll(async () => {
  stack = await startTfStack({ providers: ['github'] });
  run = await stack.startRun('victim-agent');
}, 180_000);
afterAll(async () => stack?.stop(), 60_000);

/** The agent's request the default policy denies (deny-repo-delete). */
async function deleteRepo(): Promise<{ status: number; body: string }> {
  const dispatcher = new ProxyAgent({ uri: run.proxyUrl(), requestTls: { ca: stack.caPem } });
  try {
    const r = await request('https://api.github.com/repos/acme/widgets', { method: 'DELETE', dispatcher });
    return { status: r.statusCode, body: await r.body.text() };
  } finally {
    await dispatcher.close();
  }
}

const deletesSeenUpstream = () => stack.upstream('github').requests.filter((r) => r.method === 'DELETE').length;

/** Speaks the NATS protocol over a raw socket: CONNECT without credentials, then a forged PUB. */
function rawForgery(port: number, subject: string, payload: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = netConnect({ host: '127.0.0.1', port }, () => {
      s.write(`CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPUB ${subject} ${Buffer.byteLength(payload)}\r\n${payload}\r\nSUB tf.cmd.vault.> 1\r\nPING\r\n`);
    });
    s.on('data', (d) => (text += d));
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
    setTimeout(() => s.destroy(), 5000);
  });
}

/** Collects the server's permission refusals on a connection. */
function refusals(nc: NatsConnection): string[] {
  const out: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') out.push(String((s as { error?: Error }).error?.message ?? s));
  })();
  return out;
}

describe('a process on the same machine cannot forge a decision or read a credential', () => {
  it('the agent is denied, and the gateway never forwarded its request', async () => {
    const r = await deleteRepo();
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ rule: 'deny-repo-delete' });
    expect(deletesSeenUpstream()).toBe(0);
  });

  it('refuses a connection without credentials, through a client library or a raw socket', async () => {
    const port = Number(new URL(stack.info.natsUrl).port);
    await expect(connect({ servers: stack.info.natsUrl, timeout: 3000, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
    const fakeAllow = JSON.stringify({ decision: 'allow' });
    const reply = await rawForgery(port, 'tf.evt.action.decided.default', fakeAllow);
    expect(reply).toMatch(/-ERR 'Authorization Violation'/);
    expect(reply).not.toMatch(/PONG/);
  });

  it('keeps the stack credentials out of the agent environment and in 0600 files', async () => {
    const paths = statePaths(stack.stateDir);
    for (const f of [paths.natsPasswords, paths.natsConfig, paths.masterKey, paths.adminToken]) expect(statSync(f).mode & 0o077, f).toBe(0);
    const passwords = readNatsPasswords(paths);
    const env = await stack.tf(['run', '--', 'env-agent', '/usr/bin/env']);
    expect(env.code, env.stderr).toBe(0);
    for (const pw of Object.values(passwords)) expect(env.stdout).not.toContain(pw);
    expect(env.stdout).not.toContain(stack.adminToken);
    expect(env.stdout).not.toMatch(/^TF_NATS_/m);
  });

  it('refuses a forged decision, a forged policy reply and credential subscriptions from the least-privileged user; the request stays denied', async () => {
    const passwords = readNatsPasswords(statePaths(stack.stateDir));
    const nc = await connect({ servers: stack.info.natsUrl, user: 'external', pass: passwords.external, inboxPrefix: inboxPrefixFor('external'), timeout: 3000 });
    const refused = refusals(nc);
    try {
      const actionId = uuidv7();
      // The shape of a policy decision for an action of the victim's run; the server refuses it
      // by subject, whatever it says.
      const forged = { id: actionId, type: 'ActionDecided', data: { actionId, gatewayId: 'default', runId: run.runId, agentId: run.agentId, decision: 'allow', decidedBy: 'policy' } };
      nc.publish(`tf.evt.action.decided.default`, JSON.stringify(forged));
      nc.publish(`${inboxPrefixFor('ingress')}.forged`, JSON.stringify({ decision: 'allow' }));
      nc.publish(Commands.vaultRelease.subject, JSON.stringify({}));
      const subs = [nc.subscribe('tf.cmd.vault.>'), nc.subscribe('tf.evt.action.credential_released.>'), nc.subscribe(Commands.policyDecide.subject, { queue: 'policy' }), nc.subscribe(`${inboxPrefixFor('ingress')}.>`)];
      await nc.flush();
      // Meanwhile the agent tries again: still denied, still never forwarded.
      const again = await deleteRepo();
      expect(again.status).toBe(403);
      await new Promise((r) => setTimeout(r, 500));
      const text = refused.join('\n');
      for (const s of ['tf.evt.action.decided.default', `${inboxPrefixFor('ingress')}.forged`, Commands.vaultRelease.subject]) expect(text).toContain(`Permissions Violation for Publish to "${s}"`);
      for (const s of ['tf.cmd.vault.>', 'tf.evt.action.credential_released.>', Commands.policyDecide.subject, `${inboxPrefixFor('ingress')}.>`]) expect(text).toContain(`Permissions Violation for Subscription to "${s}"`);
      for (const sub of subs) expect(sub.getReceived()).toBe(0);
      expect(deletesSeenUpstream()).toBe(0);
      // The forged decision is nowhere in the audit: the only decisions recorded are the policy's denials.
      const decided = await waitFor(async () => {
        const d = (await stack.storedEvents('ActionDecided')).filter((e) => e.data.runId === run.runId);
        return d.length >= 2 ? d : undefined;
      }, { timeoutMs: 15_000, what: 'the two recorded denials' });
      expect(decided.map((e) => e.data.decision)).toEqual(['deny', 'deny']);
      expect(decided.some((e) => e.data.actionId === actionId)).toBe(false);
    } finally {
      await nc.close();
    }
  });
});
