/**
 * The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against the real stack (`@tameflare/stack`: every service as its own process). Agents are real
 * curl processes sending through the gateway. Screenshots of every view, at 1280 px and at a
 * phone's width, land in test-artifacts/dashboard/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Commands } from '@tameflare/contracts';
import { sendWith, type ClientResponse } from '@tameflare/proxy/testing';
import { waitFor } from '@tameflare/testing';
import { startLoopingAgent } from './dashboard/agent.ts';
import { DESKTOP, PHONE, focusedText, launchBrowser, lowContrastText, screenshot, sessionEntries, unnamedControls, type DashboardBrowser } from './dashboard/browser.ts';
import { ensureDashboardBuilt } from './dashboard/build.ts';
import { startDashboardStack, type AgentRun, type DashboardStack } from './dashboard/stack.ts';

/** UI changes arrive over the network: wait for them up to 10 s. */
const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout });

let stack: DashboardStack;
let browser: DashboardBrowser;
let refundBot: AgentRun;

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const agentEnv = (run: AgentRun) => ({ proxyUrl: run.proxyUrl, caPem: stack.tf.caPem });
/** A refund of `amount` (in cents) for a charge no other request uses. The default policy holds refunds over 50.00 for approval. */
let seq = 0;
function refund(run: AgentRun, amount: number): { charge: string; response: Promise<ClientResponse> } {
  const charge = `ch_dash${++seq}${Date.now().toString(36)}`;
  return { charge, response: sendWith('curl', agentEnv(run), { method: 'POST', url: 'https://api.stripe.com/v1/refunds', headers: form, body: Buffer.from(`charge=${charge}&amount=${amount}`) }) };
}
const upstreamHits = (charge: string) => stack.tf.upstream('stripe').requests.filter((r) => r.body.includes(charge));

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(stack.baseUrl);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
}

/** Opens a view and waits until it has left its loading state. */
async function open(page: Page, hash: string, heading: string): Promise<void> {
  await page.goto(`${stack.baseUrl}#${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await poll(() => page.getByRole('status').filter({ hasText: /^\s*Loading/ }).count()).toBe(0);
}

/** Every control has an accessible name and all visible text meets WCAG AA contrast. */
async function expectAccessible(page: Page, view: string): Promise<void> {
  expect(await unnamedControls(page), `${view}: controls without an accessible name`).toEqual([]);
  expect(await lowContrastText(page), `${view}: text under 4.5:1 contrast`).toEqual([]);
}

async function pendingCard(page: Page, charge: string) {
  const card = page.getByRole('article').filter({ hasText: charge });
  await card.waitFor({ timeout: 15_000 });
  return card;
}

beforeAll(async () => {
  await ensureDashboardBuilt();
  stack = await startDashboardStack();
  browser = await launchBrowser();
  refundBot = await stack.startRun('refund-bot', 'python refund.py --queue support');
  // Some history for the views: allowed reads and small refunds, one denied call.
  expect((await sendWith('curl', agentEnv(refundBot), { method: 'GET', url: 'https://api.stripe.com/v1/balance' })).status).toBe(200);
  for (const amount of [1200, 900]) expect((await refund(refundBot, amount).response).status).toBe(200);
  const denied = await sendWith('curl', agentEnv(refundBot), { method: 'POST', url: 'https://api.stripe.com/v1/customers', headers: form, body: Buffer.from('email=a@example.com') });
  expect(denied.status).toBe(403);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 60_000);

describe('dashboard in Chromium against the whole stack', () => {
  it('signs in with an API token; a wrong token gets a clear message and no session', async () => {
    const page = await browser.newPage();
    await page.goto(stack.baseUrl);
    await poll(() => page.title()).toBe('Sign in · TameFlare');
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('API token').fill('tfa_not_a_real_token_0000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => page.getByRole('alert').textContent()).toMatch(/This token was not accepted: it is unknown, revoked or mistyped/);
    expect(await sessionEntries(page)).toBe(0);
    await screenshot(page, 'sign-in-error', { docs: true });

    await page.getByLabel('API token').fill(`Bearer ${stack.tokens.approver}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('alice approver');
    await page.close();
  });

  it('live actions: recorded history, a decision arriving live, filters, and one action in detail', async () => {
    const page = await browser.newPage();
    await signIn(page, stack.tokens.viewer);
    await open(page, '/actions', 'Live actions');
    await page.getByText('Live', { exact: true }).waitFor();
    await poll(() => page.locator('.actions-table tbody tr').count()).toBeGreaterThanOrEqual(4);

    // A new request shows up without a reload.
    const live = refund(refundBot, 700);
    expect((await live.response).status).toBe(200);
    const row = page.locator('.actions-table tbody tr').filter({ hasText: live.charge });
    await row.waitFor({ timeout: 10_000 });
    await poll(() => row.textContent()).toMatch(/Allowed.*200/);
    await expectAccessible(page, 'actions');
    await screenshot(page, 'actions', { docs: true });

    await page.getByLabel('Decision').selectOption('DENY');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await poll(() => page.url()).toContain('decision=DENY');
    await poll(() => page.locator('.actions-table tbody tr').allTextContents()).toEqual([expect.stringMatching(/stripe\.customer\.create.*Denied.*403/)]);
    await page.getByLabel('Agent').fill('Not An Id');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await poll(() => page.getByText('An agent id has lowercase letters, digits, - and _ only.').count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();

    await row.waitFor();
    await row.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Action' }).waitFor();
    const detail = page.locator('.detail');
    await poll(() => detail.textContent()).toContain('stripe-token version');
    const text = (await detail.textContent())!;
    expect(text).toContain('allow-small-refund (decided)');
    expect(text).toMatch(/Policy versionv2/);
    expect(text).toContain('Injected asbearer');
    expect(text).toMatch(/Status200/);
    expect(text).toMatch(/Upstream latency\d/);
    expect(text).not.toContain(stack.tf.secret('stripe'));
    expect(await page.content()).not.toContain(stack.tf.secret('stripe'));
    await expectAccessible(page, 'action detail');
    await screenshot(page, 'action-detail', { docs: true });
    await page.setViewportSize(PHONE);
    await screenshot(page, 'action-detail');
    await open(page, '/actions', 'Live actions');
    await screenshot(page, 'actions', { docs: true });
    await page.close();
  });

  it("an agent's request waits for approval; the approver approves it in the browser, by keyboard, and the agent's request completes", async () => {
    const page = await browser.newPage();
    await signIn(page, stack.tokens.approver);
    await open(page, '/approvals', 'Approvals');

    const held = refund(refundBot, 25_000);
    // The card arrives through the subscription, with the exact request.
    const card = await pendingCard(page, held.charge);
    const text = (await card.textContent())!;
    expect(text).toContain('POST https://api.stripe.com/v1/refunds');
    expect(text).toContain('stripe.refund.create');
    expect(text).toContain('"amount": 25000');
    expect(text).toMatch(/Body digest[0-9a-f]{64}/);
    expect(text).toMatch(/0 of 1 approvals/);
    expect(text).toMatch(/\d+m \d\ds left/);
    expect(upstreamHits(held.charge)).toHaveLength(0);
    await expectAccessible(page, 'approvals');
    await screenshot(page, 'approvals', { docs: true });

    // Keyboard only: focus the comment field, Tab to Approve, Enter.
    await card.getByLabel('Comment (optional)').fill('refund agreed with the customer');
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Approve');
    await page.keyboard.press('Enter');
    await poll(() => page.getByRole('status').filter({ hasText: 'Approved stripe.refund.create for refund-bot' }).count()).toBe(1);

    const res = await held.response;
    expect(res.status).toBe(200);
    const hits = upstreamHits(held.charge);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.authorized).toBe(true);
    expect(hits[0]!.headers.authorization).toBe(`Bearer ${stack.tf.secret('stripe')}`);
    await poll(() => page.getByRole('article').filter({ hasText: held.charge }).count()).toBe(0);
    const decided = page.locator('table').filter({ hasText: 'Decided by' });
    await poll(() => decided.textContent()).toMatch(/refund-bot.*stripe\.refund\.create.*alice/);
    await page.close();
  });

  it('a viewer sees the pending approval but no approve or deny button', async () => {
    const held = refund(refundBot, 31_000);
    const page = await browser.newPage();
    await signIn(page, stack.tokens.viewer);
    await open(page, '/approvals', 'Approvals');
    const card = await pendingCard(page, held.charge);
    expect(await card.getByRole('button').count()).toBe(0);
    expect(await page.getByRole('button', { name: /approve|deny/i }).count()).toBe(0);
    expect(await card.textContent()).toContain('You are signed in with a viewer token: you can see approvals but not approve or deny them.');
    await expectAccessible(page, 'approvals (viewer)');
    await screenshot(page, 'approvals-viewer');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'approvals-viewer', { docs: true });

    // Clean up: deny it so the agent gets its 403.
    const id = (await stack.graphql(stack.tokens.admin, '{ pendingApprovals { nodes { id request { params } } } }')).body.data.pendingApprovals.nodes.find(
      (n: { request: { params: { charge: string } } }) => n.request.params.charge === held.charge,
    ).id;
    await stack.graphql(stack.tokens.admin, 'mutation ($id: ID!) { deny(approvalId: $id, comment: "test cleanup") { status } }', { id });
    expect((await held.response).status).toBe(403);
    await page.close();
  });

  it('an approval already decided by someone else: the click changes nothing and says who decided', async () => {
    const held = refund(refundBot, 40_000);
    await waitFor(() => stack.graphql(stack.tokens.admin, '{ pendingApprovals { nodes { request { params } } } }').then((r) => r.body.data.pendingApprovals.nodes.some((n: { request: { params: { charge: string } } }) => n.request.params.charge === held.charge) || undefined), { timeoutMs: 15_000, what: 'the approval' });
    const page = await browser.newPage();
    // This tab never hears live events (as on a flaky network), so it keeps showing the approval as pending.
    await page.route('**/graphql', (route) => ((route.request().headers().accept ?? '').includes('text/event-stream') ? route.abort('connectionrefused') : route.fallback()));
    await signIn(page, stack.tokens.approver);
    await open(page, '/approvals', 'Approvals');
    const card = await pendingCard(page, held.charge);
    await poll(() => page.getByRole('status').filter({ hasText: /Reconnecting|Connecting/ }).count()).toBeGreaterThan(0);

    const pending = (await stack.graphql(stack.tokens.admin, '{ pendingApprovals { nodes { id request { params } } } }')).body.data.pendingApprovals.nodes;
    const id = pending.find((n: { request: { params: { charge: string } } }) => n.request.params.charge === held.charge).id;
    const other = await stack.graphql(stack.tokens.admin, 'mutation ($id: ID!) { deny(approvalId: $id, comment: "duplicate refund") { status deniedBy } }', { id });
    expect(other.body.data.deny).toEqual({ status: 'DENIED', deniedBy: 'bootstrap-admin' });
    expect((await held.response).status).toBe(403);

    await card.getByRole('button', { name: 'Approve' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Your vote was not counted' });
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/it was denied by bootstrap-admin .*Nothing was changed by your click/);
    await screenshot(page, 'approvals-already-decided', { docs: true });
    const votes = (await stack.graphql(stack.tokens.admin, '{ approval(id: "' + id + '") { status votes { voter outcome } } }')).body.data.approval;
    expect(votes.status).toBe('DENIED');
    expect(votes.votes.filter((v: { voter: string }) => v.voter === 'alice')).toEqual([]);
    expect(upstreamHits(held.charge)).toHaveLength(0);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });

  it('the kill switch engaged from the browser stops a running agent, each replica acknowledges, and release lets it run again', async () => {
    const syncBot = await stack.startRun('sync-bot', 'node sync.js --watch');
    const agent = startLoopingAgent(syncBot.proxyUrl, stack.tf.caPem, 'https://api.stripe.com/v1/balance');
    // A streamed chat answer the fake sends for a minute: open when the switch is engaged.
    const chat = { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"sync"}]}') };
    const streamStarted = Date.now();
    const stream = sendWith('curl', agentEnv(syncBot), chat).then(
      (r) => ({ ended: true, status: r.status }),
      () => ({ ended: true, status: -1 }),
    );
    try {
      await waitFor(() => agent.statuses.filter((s) => s.status === 200).length >= 2 || undefined, { timeoutMs: 15_000, what: 'sync-bot running' });
      await waitFor(() => stack.tf.upstream('openai').requests.some((r) => r.url === '/v1/chat/completions') || undefined, { timeoutMs: 10_000, what: 'the stream open' });

      const page = await browser.newPage();
      await signIn(page, stack.tokens.admin);
      await open(page, '/kill-switch', 'Kill switch');
      await page.getByLabel('Stop').selectOption('AGENT');
      await page.getByLabel('Agent id').fill(syncBot.agentId);
      await page.getByLabel('Reason').fill('sync-bot is polling the balance in a loop');
      await expectAccessible(page, 'kill switch');
      await page.getByRole('button', { name: 'Engage kill switch…' }).click();

      const dialog = page.getByRole('dialog', { name: `Stop agent ${syncBot.agentId}?` });
      await dialog.waitFor();
      // Cancel first: focus starts on Cancel, Escape closes, nothing is engaged.
      expect(await focusedText(page)).toBe('Cancel');
      await page.keyboard.press('Escape');
      await poll(() => dialog.isVisible()).toBe(false);
      expect((await stack.graphql(stack.tokens.admin, '{ activeKillSwitches { scope { key } } }')).body.data.activeKillSwitches).toEqual([]);

      await page.getByRole('button', { name: 'Engage kill switch…' }).click();
      await dialog.waitFor();
      await screenshot(page, 'kill-switch-confirm', { docs: true });
      const engagedAt = Date.now();
      await dialog.getByRole('button', { name: `Engage kill switch for agent ${syncBot.agentId}` }).click();
      const result = page.getByRole('status').filter({ hasText: 'Engaged: took effect on' });
      await result.waitFor({ timeout: 15_000 });
      expect(await result.textContent()).toMatch(/Engaged: took effect on 1 of 1 replica in [\d.]+ ms\./);
      expect(await result.locator('table').textContent()).toContain('ingress-1');

      // The running agent is stopped: its requests are refused and its open stream is cut.
      await waitFor(() => agent.statuses.filter((s) => s.at > engagedAt + 500).slice(0, 3).length === 3 || undefined, { timeoutMs: 15_000, what: 'three requests after the stop' });
      expect(agent.statuses.filter((s) => s.at > engagedAt + 500).map((s) => s.status)).toEqual(expect.arrayContaining([403]));
      expect(agent.statuses.filter((s) => s.at > engagedAt + 500 && s.status === 200)).toEqual([]);
      expect(await Promise.race([stream, new Promise((r) => setTimeout(() => r('still open'), 10_000))])).toMatchObject({ ended: true });
      // The fake streams for 60 s: it ended this early because the gateway cut it.
      expect(Date.now() - streamStarted).toBeLessThan(45_000);

      const active = page.getByRole('listitem').filter({ hasText: `Stopped: agent ${syncBot.agentId}` });
      await active.waitFor();
      expect(await active.textContent()).toContain('sync-bot is polling the balance in a loop');
      await screenshot(page, 'kill-switch', { docs: true });
      await page.setViewportSize(PHONE);
      await screenshot(page, 'kill-switch', { docs: true });
      await page.setViewportSize(DESKTOP);

      await active.getByRole('button', { name: `Release kill switch for agent ${syncBot.agentId}` }).click();
      const release = page.getByRole('dialog', { name: `Release the kill switch for agent ${syncBot.agentId}?` });
      await release.getByRole('button', { name: `Release kill switch for agent ${syncBot.agentId}` }).click();
      await page.getByRole('status').filter({ hasText: 'Released: took effect on 1 of 1 replica' }).waitFor({ timeout: 15_000 });
      const releasedAt = Date.now();
      await waitFor(() => agent.statuses.some((s) => s.at > releasedAt + 300 && s.status === 200) || undefined, { timeoutMs: 15_000, what: 'sync-bot running again' });
      await page.close();
    } finally {
      await agent.stop();
    }
  });

  it('a viewer cannot use the kill switch; policies show history, a diff and a backtest; agents and runs show counts and a chart', async () => {
    const active = (await stack.graphql(stack.tokens.admin, '{ policyVersions(first: 1) { nodes { source } } }')).body.data.policyVersions.nodes[0].source as string;
    const tightened = active.replace('action.params.amount > 5000', 'action.params.amount > 1000');
    expect(tightened).not.toBe(active);
    expect(await stack.publishPolicy(tightened, 'tighter.yaml')).toBe(3);
    await waitFor(() => stack.graphql(stack.tokens.viewer, '{ gateways { activePolicyVersion } }').then((r) => r.body.data.gateways[0].activePolicyVersion === 3 || undefined), { what: 'version 3 projected' });

    const page = await browser.newPage();
    await signIn(page, stack.tokens.viewer);
    await open(page, '/kill-switch', 'Kill switch');
    expect(await page.getByRole('button', { name: /engage|release/i }).count()).toBe(0);
    expect(await page.textContent('main')).toContain('Only admin tokens can engage or release the kill switch. You are signed in as viewer.');

    await open(page, '/policies', 'Policies');
    await page.getByRole('heading', { name: /Version 3/ }).waitFor();
    expect(await page.textContent('main')).toContain('v2 → v3: 1 line added, 1 removed.');
    const diff = page.getByLabel('Differences from version 2 to version 3');
    expect(await diff.locator('.diff-removed').textContent()).toContain('action.params.amount > 5000');
    expect(await diff.locator('.diff-added').textContent()).toContain('action.params.amount > 1000');
    // Backtest a candidate that sends every refund to approval: the allowed small refunds would change.
    const candidate = tightened.replace(/ {2}- id: allow-small-refund\n(?: {4}.*\n)+/, '');
    await page.getByLabel('Candidate policy (YAML)').fill(candidate);
    await page.getByRole('button', { name: 'Run backtest' }).click();
    const report = page.getByRole('region', { name: 'Backtest result' });
    await report.waitFor({ timeout: 30_000 });
    expect(await report.textContent()).toMatch(/[1-9]\d* of \d+ decisions would change/);
    expect(await report.locator('table').textContent()).toMatch(/refund-bot.*stripe\.refund\.create.*Allowed.*allow-small-refund/);
    await expectAccessible(page, 'policies');
    await page.getByRole('heading', { name: 'Compare versions' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'policies', { docs: true });
    await report.scrollIntoViewIfNeeded();
    await screenshot(page, 'policies-backtest', { docs: true });
    await page.setViewportSize(PHONE);
    await screenshot(page, 'policies');
    await page.setViewportSize(DESKTOP);

    await open(page, '/agents', 'Agents and runs');
    const runs = page.locator('table').filter({ hasText: 'Command' });
    const refundRow = runs.locator('tbody tr').filter({ hasText: 'python refund.py --queue support' });
    await refundRow.waitFor();
    const cells = await refundRow.locator('td').allTextContents();
    // Allowed: the read and three small refunds; approval: the approved, the denied-by-viewer-test and the already-decided refund; denied: the customer.
    expect(cells.slice(-3)).toEqual(['4', '3', '1']);
    expect(await page.locator('figcaption').textContent()).toMatch(/Decisions, last 24 hours, per hour: \d+ allowed, 3 needed approval, \d+ denied\./);
    await expectAccessible(page, 'agents');
    await screenshot(page, 'agents', { docs: true });
    await page.setViewportSize(PHONE);
    await screenshot(page, 'agents', { docs: true });
    await page.close();
  });

  it('an API that stops answering shows a clear message, and the view recovers on its own when it is back', async () => {
    const page = await browser.newPage();
    await signIn(page, stack.tokens.viewer);
    await page.route('**/graphql', (route) => route.abort('connectionrefused'));
    await page.goto(`${stack.baseUrl}#/agents`);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load agents and runs' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Cannot reach the TameFlare API: no answer from .*Check that the audit API is running; the dashboard retries on its own\./);
    expect(await alert.getByRole('button').allTextContents()).toEqual(['Try again']);
    await screenshot(page, 'error-unreachable', { docs: true });
    await page.unroute('**/graphql');
    await page.locator('figcaption').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it('a revoked token ends the session with a message at the next request', async () => {
    const issued = await stack.graphql(stack.tokens.admin, 'mutation { issueApiToken(name: "temp-viewer", role: VIEWER) { tokenId token } }');
    const { tokenId, token } = issued.body.data.issueApiToken;
    const page = await browser.newPage();
    await signIn(page, token);
    await open(page, '/actions', 'Live actions');
    await stack.tf.bus.request(Commands.tokenRevoke, { tokenId, actor: 'e2e' });
    await page.getByRole('link', { name: 'Policies' }).click();
    const notice = page.getByRole('alert');
    await poll(() => notice.textContent(), 15_000).toBe('Your session has ended: the API no longer accepts this token (it was revoked or has expired). Sign in again.');
    expect(await page.getByLabel('API token').isVisible()).toBe(true);
    expect(await sessionEntries(page)).toBe(0);
    await screenshot(page, 'session-ended');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'session-ended', { docs: true });
    await page.close();
  });
});
