/**
 * The kill switch through the whole stack: two ingress replicas, an agent under `tf run` holding
 * an OpenAI stream open. `tf kill --all` must be acknowledged by both replicas (the command
 * measures and reports how long the slowest took), cut the open stream, make both replicas
 * refuse with 403 and the reason, and `tf kill --release` must restore service.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sendWith } from '@tameflare/proxy/testing';
import { AGENTS, startTfStack, type TfStack } from './harness/index.ts';

const POLICY = `
version: 1
name: kill-switch-e2e
rules:
  - id: allow-openai
    effect: allow
    match: { actions: ["openai.**"] }
    reason: The kill switch test calls OpenAI freely
`;

let stack: TfStack;
beforeAll(async () => {
  stack = await startTfStack({ providers: ['openai'], ingressReplicas: 2, policy: POLICY });
}, 180_000);
afterAll(async () => stack?.stop(), 60_000);

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; status?: number; how?: string; body?: { type?: string; reason?: string; killSwitchId?: string } });

it('reaches both replicas, cuts the open stream, refuses new requests, and release restores service', async () => {
  const agent = stack.spawnTf(['run', '--json', '--', 'stream-agent', process.execPath, AGENTS.openaiStream]);
  await agent.waitForOutput('"stream-open"');
  // A second client, on the other replica, with a run of its own.
  const other = await stack.startRun('other-agent');
  const viaReplica2 = () => sendWith('curl', { proxyUrl: other.proxyUrl(1), caPem: stack.caPem }, { method: 'GET', url: 'https://api.openai.com/v1/models' });
  const before = await viaReplica2();
  expect(before.status, before.body.toString()).toBe(200);

  const kill = await stack.tf(['kill', '--all', '--json', '--reason', 'e2e: runaway agent']);
  expect(kill.code, kill.stderr).toBe(0);
  const reply = JSON.parse(kill.stdout) as { expected: number; acknowledgements: { ingressId: string; latencyMs: number }[]; tookEffectMs: number; killSwitchId: string };
  expect(reply.expected).toBe(2);
  expect(reply.acknowledgements.map((a) => a.ingressId).sort()).toEqual(['ingress-1', 'ingress-2']);
  expect(reply.tookEffectMs).toBe(Math.max(...reply.acknowledgements.map((a) => a.latencyMs)));
  console.log(`kill switch took effect on 2/2 replicas in ${reply.tookEffectMs} ms (${reply.acknowledgements.map((a) => `${a.ingressId} ${a.latencyMs} ms`).join(', ')})`);

  await agent.waitForOutput('"refused"');
  const events = lines(agent.stdout());
  const ended = events.find((e) => e.event === 'stream-ended')!;
  expect(ended.how).toBe('error');
  const refused = events.find((e) => e.event === 'refused')!;
  expect(refused.body).toMatchObject({ type: 'urn:tameflare:problem:kill-switch', reason: 'e2e: runaway agent', killSwitchId: reply.killSwitchId });
  const r2 = await viaReplica2();
  expect(r2.status).toBe(403);
  expect(JSON.parse(r2.body.toString())).toMatchObject({ type: 'urn:tameflare:problem:kill-switch', reason: 'e2e: runaway agent' });
  expect(r2.headers['x-tameflare-ingress']).toBe('ingress-2');

  const acks = (await stack.storedEvents('KillSwitchAcknowledged')).filter((e) => e.data.killSwitchId === reply.killSwitchId);
  expect(acks.map((e) => e.data.ingressId).sort()).toEqual(['ingress-1', 'ingress-2']);

  const release = await stack.tf(['kill', '--release', '--all']);
  expect(release.code, release.stderr).toBe(0);
  expect(release.stdout).toMatch(/^Kill switch released on everything: took effect on 2\/2 replicas in \d+ ms\.$/m);
  const done = await agent.done;
  expect(done.code, done.stderr).toBe(0);
  expect(lines(done.stdout).map((e) => e.event)).toEqual(['stream-status', 'stream-open', 'stream-ended', 'refused', 'restored']);
  expect((await viaReplica2()).status).toBe(200);
}, 120_000);
