import { describe, expect, it } from 'vitest';
import { isTameFlareError, uuidv7, type EventData } from '@tameflare/contracts';
import { slackSignature, verifySlackSignature } from './slack-signature.ts';
import { SlackActions, slackApprovalMessage } from './slack-message.ts';

// The worked example from Slack's "Verifying requests from Slack" documentation.
const slack = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
    '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const then = new Date(1531420618 * 1000 + 30_000);

describe('Slack request signing', () => {
  it('computes the signature of Slack’s documented example', () => {
    expect(slackSignature(slack.secret, slack.timestamp, slack.body)).toBe(slack.signature);
  });

  it('accepts the documented request within five minutes', () => {
    expect(() => verifySlackSignature({ signingSecret: slack.secret, timestamp: slack.timestamp, signature: slack.signature, rawBody: slack.body, now: then })).not.toThrow();
  });

  it.each([
    ['a changed body', { rawBody: slack.body.replace('roadrunner', 'coyote') }, /does not match/],
    ['another secret', { signingSecret: 'x'.repeat(32) }, /does not match/],
    ['a flipped signature digit', { signature: slack.signature.replace(/.$/, '4') }, /does not match/],
    ['no signature', { signature: undefined }, /X-Slack-Signature/],
    ['a v1 signature', { signature: slack.signature.replace('v0=', 'v1=') }, /X-Slack-Signature/],
    ['no timestamp', { timestamp: undefined }, /Timestamp/],
    ['a timestamp that is not a number', { timestamp: '15314206l8' }, /Timestamp/],
    ['a replay after five minutes', { now: new Date(1531420618 * 1000 + 301_000) }, /five minutes/],
    ['a timestamp from the future', { now: new Date(1531420618 * 1000 - 301_000) }, /five minutes/],
  ])('refuses %s', (_what, over, message) => {
    const r = { signingSecret: slack.secret, timestamp: slack.timestamp, signature: slack.signature, rawBody: slack.body, now: then, ...over };
    try {
      verifySlackSignature(r);
      expect.unreachable();
    } catch (err) {
      expect(isTameFlareError(err, 'TF_ERR_APPROVAL_BAD_SIGNATURE')).toBe(true);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain(slack.signature.slice(3));
    }
  });
});

describe('Slack approval message', () => {
  const data: EventData<'ApprovalRequested'> = {
    approvalId: uuidv7(),
    actionId: uuidv7(),
    gatewayId: 'default',
    agentId: 'payout-bot',
    runId: uuidv7(),
    agentName: 'payout <!channel> bot',
    requestDigest: 'a'.repeat(64),
    request: {
      method: 'POST',
      url: 'https://api.stripe.com/v1/payouts?x=<http://evil|click>',
      action: { type: 'stripe.payout.create', connector: 'stripe', resource: null, params: { amount: 5000, currency: 'eur' }, risk: 'write', notes: [] },
      bodyDigest: null,
    },
    ruleId: 'payouts',
    reason: 'two people sign off on payouts',
    approverRoles: ['approver'],
    quorum: 2,
    timeoutMs: 300_000,
    expiresAt: '2030-01-01T00:05:00.000Z',
  };

  it('has a text fallback and Approve/Deny buttons carrying the approval id', () => {
    const m = slackApprovalMessage(data, { dashboardUrl: 'https://tf.example.com/' });
    expect(m.text).toContain('stripe.payout.create');
    expect(m.text).toContain('2 approvers');
    const actions = m.blocks.find((b) => (b as { type: string }).type === 'actions') as { elements: { action_id?: string; value?: string; url?: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([SlackActions.approve, SlackActions.deny, undefined]);
    expect(actions.elements.slice(0, 2).every((e) => e.value === data.approvalId)).toBe(true);
    expect(actions.elements[2]!.url).toBe(`https://tf.example.com/approvals/${data.approvalId}`);
  });

  it('escapes agent-supplied text so it cannot mention a channel or forge a link', () => {
    const json = JSON.stringify(slackApprovalMessage(data));
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<http://evil');
    expect(json).toContain('&lt;!channel&gt;');
  });
});
