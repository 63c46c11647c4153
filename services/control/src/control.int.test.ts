import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Buckets,
  Commands,
  ControlErrorCode,
  sha256Hex,
  type ApiTokenEntry,
  type ConnectorEntry,
  type KillSwitchEntry,
  type KillSwitchReply,
  type RunEndReply,
  type RunEntry,
  type RunStartReply,
  type TokenIssueReply,
} from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { startControlService, type ControlService } from './control-service.ts';
import { fakeIngress, quietLog, startControlTestEnv, type ControlTestEnv } from './test/env.ts';

let env: ControlTestEnv;
let service: ControlService;
let cli: Bus;

const actor = 'cli:tester@host';

async function rejects(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  env = await startControlTestEnv();
  // The service runs as NATS user `control`, so the permission matrix is part of what is tested.
  const bus = await env.connectAs('control');
  service = await startControlService({ bus, store: env.store, instanceId: 'c1', logger: quietLog, ackTimeoutMs: 1500, lateAckWindowMs: 5000, instancesTtlMs: 3000 });
  cli = env.admin;
  await cli.request(Commands.gatewayCreate, { gatewayId: 'default', mode: 'enforce', actor });
});

afterAll(async () => {
  await service?.stop();
  await env?.dispose();
});

describe('agent runs', () => {
  it('refuses a run on an unknown gateway and records nothing', async () => {
    const err = await rejects(cli.request(Commands.runStart, { agentName: 'a', gatewayId: 'nope', command: 'x', hostname: 'h', pid: 1, startedBy: actor }));
    expect(err.code).toBe(ControlErrorCode.UnknownGateway);
    expect(err.message).toContain('"nope"');
    const r = await env.store.pool.query(`SELECT count(*)::int AS n FROM tf_events.events WHERE stream_id LIKE 'run-%'`);
    expect(r.rows[0].n).toBe(0);
  });

  it('mints a token that only exists in the reply, valid in tf_runs until the run ends', async () => {
    const started = await cli.request<RunStartReply>(Commands.runStart, {
      agentName: 'My Agent (prod)',
      gatewayId: 'default',
      command: 'python agent.py',
      hostname: 'box',
      pid: 4242,
      startedBy: actor,
    });
    expect(started.token).toMatch(/^tfr_[A-Za-z0-9_-]{43}$/);
    expect(started.agentId).toBe('my-agent-prod');
    const runs = await cli.kv(Buckets.runs);
    const entry = await runs.get<RunEntry>(sha256Hex(started.token));
    expect(entry?.value).toMatchObject({ runId: started.runId, agentId: 'my-agent-prod', agentName: 'My Agent (prod)', gatewayId: 'default' });

    const stream = await env.store.readStream(`run-${started.runId}`);
    expect(stream.events.map((e) => e.event.type)).toEqual(['AgentRunStarted']);
    expect(stream.events[0]!.event.data).toMatchObject({ tokenHash: sha256Hex(started.token), pid: 4242, command: 'python agent.py' });
    const dump = await env.store.pool.query(`SELECT string_agg(data::text || metadata::text, '') AS all FROM tf_events.events`);
    expect(dump.rows[0].all).not.toContain(started.token);

    const ended = await cli.request<RunEndReply>(Commands.runEnd, { runId: started.runId, exitCode: 3, signal: null, durationMs: 1234 });
    expect(ended).toMatchObject({ runId: started.runId, agentId: 'my-agent-prod', alreadyEnded: false });
    expect(await runs.get(sha256Hex(started.token))).toBeNull();
    const after = await env.store.readStream(`run-${started.runId}`);
    expect(after.events.map((e) => e.event.type)).toEqual(['AgentRunStarted', 'AgentRunEnded']);
    expect(after.events[1]!.event.data).toMatchObject({ exitCode: 3, signal: null, durationMs: 1234 });

    const again = await cli.request<RunEndReply>(Commands.runEnd, { runId: started.runId, exitCode: 3, signal: null, durationMs: 1234 });
    expect(again.alreadyEnded).toBe(true);
    expect((await env.store.readStream(`run-${started.runId}`)).events).toHaveLength(2);
  });

  it('refuses to end a run that never started, and a name without letters', async () => {
    const err = await rejects(cli.request(Commands.runEnd, { runId: '01890000-0000-7000-8000-000000000000', exitCode: 0, signal: null, durationMs: 1 }));
    expect(err.code).toBe(ControlErrorCode.UnknownRun);
    const bad = await rejects(cli.request(Commands.runStart, { agentName: '!!!', gatewayId: 'default', command: 'x', hostname: 'h', pid: 1, startedBy: actor }));
    expect(bad.code).toBe(ControlErrorCode.Invalid);
  });
});

describe('kill switch', () => {
  it('reaches every live replica, records each acknowledgement and reports the time it took', async () => {
    const a = await fakeIngress(env, 'ingress-a');
    const b = await fakeIngress(env, 'ingress-b');
    try {
      const reply = await cli.request<KillSwitchReply>(Commands.killSwitchEngage, { scope: { kind: 'agent', value: 'my-agent-prod' }, reason: 'runaway refunds', actor });
      expect(reply.state).toBe('engaged');
      expect(reply.expected).toBeGreaterThanOrEqual(2);
      expect(reply.acknowledgements.map((x) => x.ingressId).sort()).toEqual(expect.arrayContaining(['ingress-a', 'ingress-b']));
      expect(reply.tookEffectMs).toBe(Math.max(...reply.acknowledgements.map((x) => x.latencyMs)));
      expect(a.engaged().map((e) => e.reason)).toEqual(['runaway refunds']);

      const kv = await (await cli.kv(Buckets.killSwitch)).get<KillSwitchEntry>('agent.my-agent-prod');
      expect(kv?.value).toMatchObject({ killSwitchId: reply.killSwitchId, reason: 'runaway refunds', engagedBy: actor });
      const engaged = await env.store.readStream('killswitch-agent.my-agent-prod');
      expect(engaged.events.map((e) => e.event.type)).toEqual(['KillSwitchEngaged']);
      const acks = await env.store.readStream(`killswitch-ack-${reply.killSwitchId}`);
      expect(acks.events.map((e) => (e.event.data as { ingressId: string }).ingressId).sort()).toEqual(['ingress-a', 'ingress-b']);

      const twice = await rejects(cli.request(Commands.killSwitchEngage, { scope: { kind: 'agent', value: 'my-agent-prod' }, actor }));
      expect(twice.code).toBe(ControlErrorCode.KillSwitchEngaged);
      expect(twice.message).toContain('runaway refunds');

      const released = await cli.request<KillSwitchReply>(Commands.killSwitchRelease, { scope: { kind: 'agent', value: 'my-agent-prod' }, actor });
      expect(released).toMatchObject({ killSwitchId: reply.killSwitchId, state: 'released' });
      expect(released.acknowledgements.map((x) => x.ingressId).sort()).toEqual(['ingress-a', 'ingress-b']);
      expect(a.engaged()).toEqual([]);
      expect(b.engaged()).toEqual([]);
      expect(await (await cli.kv(Buckets.killSwitch)).get('agent.my-agent-prod')).toBeNull();
      const all = await env.store.readStream(`killswitch-ack-${reply.killSwitchId}`);
      expect(all.events.map((e) => (e.event.data as { state: string }).state).sort()).toEqual(['engaged', 'engaged', 'released', 'released']);

      const notEngaged = await rejects(cli.request(Commands.killSwitchRelease, { scope: { kind: 'agent', value: 'my-agent-prod' }, actor }));
      expect(notEngaged.code).toBe(ControlErrorCode.KillSwitchNotEngaged);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('answers after the bounded wait when a replica stays silent, and records its late acknowledgement', async () => {
    const a = await fakeIngress(env, 'fast');
    const slow = await fakeIngress(env, 'slow', { ackDelayMs: 2500 });
    try {
      const started = Date.now();
      const reply = await cli.request<KillSwitchReply>(Commands.killSwitchEngage, { scope: { kind: 'all' }, actor });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(reply.acknowledgements.map((x) => x.ingressId)).toContain('fast');
      expect(reply.acknowledgements.map((x) => x.ingressId)).not.toContain('slow');
      expect(reply.expected).toBeGreaterThan(reply.acknowledgements.length);
      await expect
        .poll(async () => (await env.store.readStream(`killswitch-ack-${reply.killSwitchId}`)).events.map((e) => (e.event.data as { ingressId: string }).ingressId), { timeout: 5000 })
        .toContain('slow');
      await cli.request(Commands.killSwitchRelease, { scope: { kind: 'all' }, actor });
    } finally {
      await a.stop();
      await slow.stop();
    }
  });

  it('refuses an invalid scope and changes nothing', async () => {
    const err = await rejects(cli.request(Commands.killSwitchEngage, { scope: { kind: 'planet', value: 'earth' }, actor }));
    expect(err.code).toBe(ControlErrorCode.Invalid);
    const noValue = await rejects(cli.request(Commands.killSwitchEngage, { scope: { kind: 'gateway' }, actor }));
    expect(noValue.code).toBe(ControlErrorCode.Invalid);
    const r = await env.store.pool.query(`SELECT count(*)::int AS n FROM tf_events.events WHERE stream_id LIKE 'killswitch-gateway%' OR stream_id LIKE 'killswitch-planet%'`);
    expect(r.rows[0].n).toBe(0);
  });
});

describe('gateways, connectors and API tokens', () => {
  it('creates a gateway once, and refuses to recreate it in another mode', async () => {
    const again = await cli.request<{ created: boolean }>(Commands.gatewayCreate, { gatewayId: 'default', mode: 'enforce', actor });
    expect(again.created).toBe(false);
    const err = await rejects(cli.request(Commands.gatewayCreate, { gatewayId: 'default', mode: 'monitor', actor }));
    expect(err.code).toBe(ControlErrorCode.GatewayExists);
    await cli.request(Commands.gatewayCreate, { gatewayId: 'staging', mode: 'enforce', actor });
    const changed = await cli.request<{ mode: string }>(Commands.gatewaySetMode, { gatewayId: 'staging', mode: 'monitor', actor });
    expect(changed.mode).toBe('monitor');
    expect((await env.store.readStream('gateway-staging')).events.map((e) => e.event.type)).toEqual(['GatewayCreated', 'GatewayModeChanged']);
  });

  it('configures and removes connectors the classifier accepts, and refuses the others', async () => {
    const req = { gatewayId: 'default', connectorId: 'github', kind: 'github', secretName: 'github-token', injection: { kind: 'bearer' }, domains: [], options: {}, actor };
    await cli.request(Commands.connectorConfigure, req);
    const kv = await cli.kv(Buckets.connectors);
    expect((await kv.get<ConnectorEntry>('default.github'))?.value).toMatchObject({ kind: 'github', secretName: 'github-token' });
    const bad = await rejects(cli.request(Commands.connectorConfigure, { ...req, connectorId: 'x', kind: 'ftp' }));
    expect(bad.code).toBe(ControlErrorCode.Invalid);
    const badDomain = await rejects(cli.request(Commands.connectorConfigure, { ...req, connectorId: 'y', domains: ['https://api.example.com/x'] }));
    expect(badDomain.code).toBe(ControlErrorCode.Invalid);
    expect(await kv.get('default.x')).toBeNull();
    const unknownGw = await rejects(cli.request(Commands.connectorConfigure, { ...req, gatewayId: 'ghost' }));
    expect(unknownGw.code).toBe(ControlErrorCode.UnknownGateway);

    await cli.request(Commands.connectorRemove, { gatewayId: 'default', connectorId: 'github', actor });
    expect(await kv.get('default.github')).toBeNull();
    const twice = await rejects(cli.request(Commands.connectorRemove, { gatewayId: 'default', connectorId: 'github', actor }));
    expect(twice.code).toBe(ControlErrorCode.UnknownConnector);
  });

  it('issues API tokens by hash and revokes them', async () => {
    const issued = await cli.request<TokenIssueReply>(Commands.tokenIssue, { name: 'ops', role: 'approver', actor });
    expect(issued.token).toMatch(/^tfa_/);
    const kv = await cli.kv(Buckets.apiTokens);
    expect((await kv.get<ApiTokenEntry>(sha256Hex(issued.token)))?.value).toMatchObject({ tokenId: issued.tokenId, role: 'approver', name: 'ops' });
    await cli.request(Commands.tokenRevoke, { tokenId: issued.tokenId, actor });
    expect(await kv.get(sha256Hex(issued.token))).toBeNull();
    const twice = await rejects(cli.request(Commands.tokenRevoke, { tokenId: issued.tokenId, actor }));
    expect(twice.code).toBe(ControlErrorCode.UnknownToken);
  });
});
