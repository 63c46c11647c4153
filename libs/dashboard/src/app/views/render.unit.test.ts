import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { createApiClient } from '../api/client.ts';
import { ApiContext } from '../api/context.tsx';
import { apiError } from '../api/errors.ts';
import type { Approval } from '../api/operations.ts';
import { DecisionChart, chartBars } from '../components/decision-chart.tsx';
import { ErrorBox } from '../components/states.tsx';
import type { Role, Session } from '../session.ts';
import { ApprovalCard, settledBy, voteRight } from './approvals.tsx';
import { checkScope, effectText, scopeText } from './kill-switch.tsx';
import { transitionText } from './policies.tsx';
import { cleanToken, signInMessage } from './sign-in.tsx';

// Components rendered by React itself (react-dom/server): what a person would see, with no DOM
// imitation. Browser behaviour (clicks, live updates) is in e2e/src/dashboard.e2e.test.ts.

const NOW = Date.parse('2026-05-01T12:00:00.000Z');

const approval: Approval = {
  id: '0196a000-0000-7000-8000-000000000001',
  actionId: '0196a000-0000-7000-8000-000000000002',
  gatewayId: 'prod',
  agentId: 'release-bot',
  agentName: 'release-bot',
  runId: '0196a000-0000-7000-8000-000000000003',
  status: 'PENDING',
  ruleId: 'deletes-need-a-human',
  reason: 'repository deletion needs approval',
  approverRoles: ['APPROVER'],
  quorum: 2,
  approvers: [],
  request: {
    method: 'DELETE',
    url: 'https://api.github.com/repos/acme/widgets',
    actionType: 'github.repo.delete',
    connector: 'github',
    resource: 'acme/widgets',
    params: { owner: 'acme', repo: 'widgets' },
    bodyDigest: null,
    requestDigest: 'sha256:aaaa',
  },
  votes: [{ voter: 'bob', voterRole: 'APPROVER', vote: 'approve', comment: null, channel: 'cli', outcome: 'RECORDED', refusalReason: null, votedAt: '2026-05-01T11:59:00.000Z' }],
  requestedAt: '2026-05-01T11:58:00.000Z',
  expiresAt: '2026-05-01T12:03:00.000Z',
  timeLeftMs: 180_000,
  decidedAt: null,
  deniedBy: null,
  denyReason: null,
  denyCause: null,
  consumedAt: null,
};

function asUser(role: Role, el: ReactElement, name = 'alice'): string {
  const session: Session = { token: 'tfa_xxxxxxxxxxxxxxxxxxxx', name, role, tokenId: null, signedInAt: NOW };
  const client = createApiClient({ endpoint: 'http://127.0.0.1:9/graphql', token: session.token });
  return renderToStaticMarkup(createElement(ApiContext.Provider, { value: { client, session } }, el));
}

const card = (a: Approval = approval) => createElement(ApprovalCard, { approval: a, now: NOW, onDecided: () => undefined });
const buttons = (html: string) => [...html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1]);

describe('ApprovalCard', () => {
  it('shows the exact request, who else voted and the time left', () => {
    const html = asUser('approver', card());
    expect(html).toContain('DELETE</strong> https://api.github.com/repos/acme/widgets');
    expect(html).toContain('github.repo.delete');
    expect(html).toContain('&quot;repo&quot;: &quot;widgets&quot;');
    expect(html).toContain('no body');
    expect(html).toContain('1 of 2 approvals');
    expect(html).toContain('bob (approver) voted approve');
    expect(html).toContain('3m 00s left');
  });

  it('an approver of an allowed role gets Approve and Deny, each with a label', () => {
    const html = asUser('approver', card());
    expect(buttons(html)).toEqual(['Approve', 'Deny']);
    expect(html).toMatch(/<label for="[^"]+-comment">Comment \(optional\)<\/label>/);
  });

  it('a viewer sees no button at all, and is told why', () => {
    const html = asUser('viewer', card());
    expect(buttons(html)).toEqual([]);
    expect(html).toContain('viewer token: you can see approvals but not approve or deny them');
  });

  it('no buttons when the rule does not accept the role, the person already voted, or the deadline passed', () => {
    expect(buttons(asUser('admin', card()))).toEqual([]);
    expect(asUser('admin', card())).toContain('accepts votes from approver tokens; yours is admin');
    expect(buttons(asUser('approver', card(), 'Bob '))).toEqual([]);
    expect(buttons(asUser('approver', card({ ...approval, expiresAt: '2026-05-01T11:59:59.000Z' })))).toEqual([]);
  });

  it('voteRight and settledBy explain the state in words', () => {
    expect(voteRight('approver', { ...approval, status: 'GRANTED' }, 'x', false)).toEqual({ canVote: false, why: 'This approval is already decided.' });
    expect(settledBy({ ...approval, status: 'DENIED', deniedBy: 'carol', denyReason: 'not today', decidedAt: null })).toBe('denied by carol (not today)');
    expect(settledBy({ ...approval, status: 'GRANTED', approvers: ['bob', 'dave'], decidedAt: null })).toBe('approved by bob, dave');
  });
});

describe('kill switch helpers', () => {
  it('scopes are checked and said in words', () => {
    expect(checkScope('ALL', 'ignored')).toEqual({ ok: true, scope: { kind: 'ALL', value: null } });
    expect(checkScope('AGENT', ' bot ')).toEqual({ ok: true, scope: { kind: 'AGENT', value: 'bot' } });
    expect(checkScope('AGENT', '')).toEqual({ ok: false, problem: 'Name the agent to stop.' });
    expect(checkScope('GATEWAY', 'Prod!')).toMatchObject({ ok: false });
    expect(scopeText({ kind: 'CONNECTOR', value: 'github' })).toBe('connector github');
  });

  it('the result names how many replicas applied it, and warns when some did not', () => {
    const ack = { ingressId: 'ingress-a', latencyMs: 12, cutConnections: 1 };
    expect(effectText({ state: 'ENGAGED', expected: 2, acknowledgements: [ack, { ...ack, ingressId: 'b', latencyMs: 14 }], tookEffectMs: 14 })).toBe('Engaged: took effect on 2 of 2 replicas in 14 ms.');
    expect(effectText({ state: 'ENGAGED', expected: 2, acknowledgements: [ack], tookEffectMs: 12 })).toMatch(/1 of 2 replicas in 12 ms\. Some replicas did not acknowledge/);
    expect(effectText({ state: 'RELEASED', expected: 0, acknowledgements: [], tookEffectMs: null })).toMatch(/^Released\. No gateway replica is running/);
  });
});

describe('backtest transitions', () => {
  it('are said with the same words as the decision badges', () => {
    expect(transitionText('allow->require_approval')).toBe('Allowed → Needs approval');
    expect(transitionText('deny->allow')).toBe('Denied → Allowed');
    expect(transitionText('rule_changed')).toBe('rule_changed');
  });
});

describe('sign-in and error states', () => {
  it('a wrong token and an ended session read differently; a pasted "Bearer " is dropped', () => {
    expect(cleanToken('  Bearer tfa_abc \n')).toBe('tfa_abc');
    expect(signInMessage(apiError('unauthenticated', 'unknown or revoked API token'))).toMatch(/^This token was not accepted/);
    expect(signInMessage(apiError('unreachable', 'no answer from http://x/graphql'))).toMatch(/^Cannot reach the TameFlare API/);
  });

  it('an error box is an alert with a retry button', () => {
    const html = renderToStaticMarkup(createElement(ErrorBox, { what: 'actions', error: apiError('unreachable', 'no answer'), onRetry: () => undefined }));
    expect(html).toContain('role="alert"');
    expect(html).toContain('Could not load actions');
    expect(buttons(html)).toEqual(['Try again']);
  });
});

describe('DecisionChart', () => {
  const buckets = [
    { start: '2026-05-01T10:00:00.000Z', allow: 3, deny: 1, requireApproval: 0 },
    { start: '2026-05-01T11:00:00.000Z', allow: 0, deny: 0, requireApproval: 0 },
    { start: '2026-05-01T12:00:00.000Z', allow: 1, deny: 0, requireApproval: 1 },
  ];
  it('stacks each bucket to its total, scaled to the tallest', () => {
    const { max, bars } = chartBars(buckets, 300, 100);
    expect(max).toBe(4);
    expect(bars[0]!.parts.map((p) => [p.key, p.h])).toEqual([['allow', 75], ['deny', 25]]);
    expect(bars[1]!.parts).toEqual([]);
    expect(bars[2]!.parts.map((p) => p.h)).toEqual([25, 25]);
  });
  it('gives screen readers the totals and a table of the non-empty buckets', () => {
    const html = renderToStaticMarkup(createElement(DecisionChart, { buckets, caption: 'Decisions' }));
    expect(html).toContain('Decisions: 4 allowed, 1 needed approval, 1 denied.');
    expect(html).toContain('aria-hidden="true"');
    expect(html.match(/<tr>/g)).toHaveLength(3);
  });
});
