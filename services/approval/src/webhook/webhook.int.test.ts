import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Commands, EventSubjects, Streams, parseEvent, uuidv7, type ApprovalOpenReply } from '@tameflare/contracts';
import { waitFor } from '@tameflare/testing';
import { approvalStream } from '../repository.ts';
import { startApprovalService, type ApprovalService } from '../service.ts';
import { openRequest } from '../test/fixtures.ts';
import { quietLog, startTestEnv, type TestEnv } from '../test/env.ts';
import { registerSlackCallback, SLACK_CALLBACK_PATH } from './route.ts';
import { SlackActions } from './slack-message.ts';
import { slackSignature } from './slack-signature.ts';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123456789';

let env: TestEnv;
let service: ApprovalService;
let receiver: Server;
let app: FastifyInstance;
let failNext = 0;
const received: { body: { text: string; blocks: { type: string; elements?: { action_id?: string; value?: string }[] }[] }; contentType: string | undefined }[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });

beforeAll(async () => {
  env = await startTestEnv();
  receiver = createServer(async (req, res) => {
    const body = await readBody(req);
    if (failNext > 0) {
      failNext--;
      res.writeHead(500).end('try later');
      return;
    }
    received.push({ body: JSON.parse(body), contentType: req.headers['content-type'] });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  service = await startWithWebhook();
  app = Fastify();
  await registerSlackCallback(app, { signingSecret: SIGNING_SECRET, voters: { U_ALICE: { name: 'alice', role: 'approver' }, U_VIC: { name: 'vic', role: 'viewer' } }, vote: (v) => service.vote(v) });
  await app.ready();
});

async function startWithWebhook(): Promise<ApprovalService> {
  const port = (receiver.address() as { port: number }).port;
  return startApprovalService({
    bus: await env.connect('approval'),
    store: env.store,
    log: quietLog,
    options: {
      source: 'approval@webhook-test',
      openGraceMs: 2000,
      vaultTimeoutMs: 2000,
      webhook: {
        url: `http://127.0.0.1:${port}/hooks/approvals`,
        dashboardUrl: 'https://tf.example.com',
        timeoutMs: 2000,
        maxAttempts: 5,
        signingSecret: SIGNING_SECRET,
        voters: { U_ALICE: { name: 'alice', role: 'approver' }, U_VIC: { name: 'vic', role: 'viewer' } },
      },
    },
  });
}
afterAll(async () => {
  await app?.close();
  await service?.stop();
  await new Promise((r) => receiver?.close(r));
  await env?.dispose();
});

const open = async () => {
  const f = openRequest();
  return (await env.bus.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided })).approvalId;
};

function click(approvalId: string, user: string, action: string = SlackActions.approve) {
  const payload = { type: 'block_actions', user: { id: user, username: user.toLowerCase() }, actions: [{ action_id: action, value: approvalId, type: 'button' }], response_url: 'https://hooks.slack.invalid/x' };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

async function callback(body: string, headers: Record<string, string> = {}) {
  const ts = String(Math.floor(Date.now() / 1000));
  return app.inject({
    method: 'POST',
    url: SLACK_CALLBACK_PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(SIGNING_SECRET, ts, body),
      ...headers,
    },
    payload: body,
  });
}

const streamTypes = async (id: string) => (await env.store.readStream(approvalStream(id))).events.map((e) => e.event.type);

describe('outgoing webhook and signed callback', () => {
  it('posts a Slack-compatible message with Approve/Deny buttons for a new approval, retrying a failed post', async () => {
    failNext = 1;
    const id = await open();
    const msg = await waitFor(() => received.find((r) => JSON.stringify(r.body).includes(id)), { timeoutMs: 10_000, what: 'webhook post' });
    expect(msg.contentType).toBe('application/json');
    expect(msg.body.text).toContain('stripe.payout.create');
    const buttons = msg.body.blocks.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.filter((b) => b.value === id).map((b) => b.action_id)).toEqual([SlackActions.approve, SlackActions.deny]);
  });

  it('a signed click by a mapped approver records the vote with channel webhook', async () => {
    const id = await open();
    const res = await callback(click(id, 'U_ALICE'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, approvalId: id, status: 'granted', approvals: ['alice'] });
    const vote = (await env.store.readStream(approvalStream(id))).events.find((e) => e.event.type === 'ApprovalVoteRecorded')!;
    expect(vote.event.data).toMatchObject({ voter: 'alice', voterRole: 'approver', channel: 'webhook', vote: 'approve' });
    const again = await callback(click(id, 'U_ALICE', SlackActions.deny));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('TF_ERR_APPROVAL_ALREADY_DECIDED');
  });

  it.each([
    ['a bad signature', (b: string) => ({ 'x-slack-signature': slackSignature('wrong-secret', String(Math.floor(Date.now() / 1000)), b) }), 401, 'TF_ERR_APPROVAL_BAD_SIGNATURE'],
    ['no signature', () => ({ 'x-slack-signature': '' }), 401, 'TF_ERR_APPROVAL_BAD_SIGNATURE'],
    ['a replayed (old) timestamp', (b: string) => {
      const ts = String(Math.floor(Date.now() / 1000) - 600);
      return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, b) };
    }, 401, 'TF_ERR_APPROVAL_BAD_SIGNATURE'],
  ])('refuses %s with %i and changes nothing', async (_what, headers, status, code) => {
    const id = await open();
    const before = await streamTypes(id);
    const body = click(id, 'U_ALICE');
    const res = await callback(body, headers(body));
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await streamTypes(id)).toEqual(before);
  });

  it('a body altered after signing is refused', async () => {
    const id = await open();
    const ts = String(Math.floor(Date.now() / 1000));
    const signed = click(uuidv7(), 'U_ALICE');
    const res = await app.inject({
      method: 'POST',
      url: SLACK_CALLBACK_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, signed) },
      payload: click(id, 'U_ALICE'),
    });
    expect(res.statusCode).toBe(401);
    expect(await streamTypes(id)).toEqual(['ApprovalRequested']);
  });

  it('an unmapped Slack user cannot vote; a mapped viewer is refused and the attempt recorded', async () => {
    const id = await open();
    const stranger = await callback(click(id, 'U_STRANGER'));
    expect(stranger.statusCode).toBe(403);
    expect(await streamTypes(id)).toEqual(['ApprovalRequested']);
    const viewer = await callback(click(id, 'U_VIC'));
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error.code).toBe('TF_ERR_APPROVAL_FORBIDDEN');
    expect(await streamTypes(id)).toEqual(['ApprovalRequested', 'ApprovalVoteRefused']);
  });

  it('announces approvals requested while no notifier ran, but not those already settled', async () => {
    await service.stop();
    const quiet = await startApprovalService({
      bus: await env.connect('approval-no-webhook'),
      store: env.store,
      log: quietLog,
      options: { source: 'approval@quiet', openGraceMs: 2000, vaultTimeoutMs: 2000, webhook: { url: null, dashboardUrl: null, timeoutMs: 2000, maxAttempts: 3, signingSecret: null, voters: {} } },
    });
    const pending = await open();
    const settled = await open();
    await quiet.vote({ approvalId: settled, voter: 'bob', voterRole: 'approver', vote: 'deny', channel: 'cli' });
    await quiet.stop();
    const before = received.length;
    service = await startWithWebhook();
    await waitFor(() => received.slice(before).some((r) => JSON.stringify(r.body).includes(pending)), { timeoutMs: 10_000, what: 'backlog announced' });
    await new Promise((r) => setTimeout(r, 500));
    expect(received.slice(before).some((r) => JSON.stringify(r.body).includes(settled))).toBe(false);
  });

  it('refuses a click on an unknown approval with 404', async () => {
    const res = await callback(click(uuidv7(), 'U_ALICE'));
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('TF_ERR_APPROVAL_NOT_FOUND');
  });
});

describe('approval events for other tools', () => {
  it('a durable JetStream consumer created after the approval was requested still receives its events', async () => {
    const id = await open();
    await service.vote({ approvalId: id, voter: 'alice', voterRole: 'approver', vote: 'approve', channel: 'cli' });
    // An external tool (a SIEM, a pager) connects later and creates its own durable consumer.
    const tool = await env.connect('siem');
    const jsm = await jetstreamManager(tool.nc);
    await jsm.consumers.add(Streams.events.name, {
      durable_name: 'siem-approvals',
      filter_subject: EventSubjects.approvals,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const consumer = await jetstream(tool.nc).consumers.get(Streams.events.name, 'siem-approvals');
    const seen: string[] = [];
    await waitFor(
      async () => {
        const batch = await consumer.fetch({ max_messages: 100, expires: 1000 });
        for await (const m of batch) {
          const e = parseEvent(m.data);
          if ((e.data as { approvalId?: string }).approvalId === id) seen.push(`${m.subject} ${e.type}`);
          m.ack();
        }
        return seen.length >= 3;
      },
      { timeoutMs: 10_000, what: 'approval events on TF_EVENTS' },
    );
    expect(seen).toEqual([
      `tf.evt.approval.requested.default ApprovalRequested`,
      `tf.evt.approval.vote_recorded.default ApprovalVoteRecorded`,
      `tf.evt.approval.granted.default ApprovalGranted`,
    ]);
  });
});
