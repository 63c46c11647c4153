import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { validateEvent, type TameFlareEvent } from '@tameflare/contracts';
import { GatewayHeaders, ProblemTypes } from '@tameflare/proxy';
import { createUpstreamTls, sendWith, startHttpsUpstream, type TestUpstream } from '@tameflare/proxy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFullStack, type FullStack } from './test/full-stack.ts';

/** The whole governed path with the real policy and vault processes: nothing is simulated but the API. */
describe('the governed path end to end', () => {
  let stack: FullStack;
  let openai: TestUpstream;
  let dir: string;
  let disposeTls: () => void;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-full-test-'));
    const tls = await createUpstreamTls(['api.openai.com']);
    disposeTls = tls.dispose;
    openai = await startHttpsUpstream(tls);
    writeFileSync(join(dir, 'ca.pem'), tls.ca.certPem);
    stack = await startFullStack({ upstream: openai.origin, upstreamCaFile: join(dir, 'ca.pem') });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await openai?.close();
    disposeTls?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = async (): Promise<TameFlareEvent[]> => {
    const js = jetstream(stack.bus.nc);
    const info = await (await js.streams.get('TF_EVENTS')).info();
    const out: TameFlareEvent[] = [];
    const c = await js.consumers.get('TF_EVENTS');
    for await (const m of await c.fetch({ max_messages: info.state.messages, expires: 2000 })) {
      out.push(validateEvent(m.json()));
      if (m.info.pending === 0) break;
    }
    return out;
  };

  it('classifies, decides, releases the sealed credential, injects it, and records every step', async () => {
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    const r = await sendWith('python-requests', { proxyUrl: stack.proxyUrl, caPem: stack.caPem }, {
      method: 'POST',
      url: 'https://api.openai.com/v1/chat/completions',
      body,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-agent-does-not-have-one' },
    });
    expect(r.status).toBe(200);
    const seen = openai.captured.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${stack.secret}`);
    expect(seen.body!.equals(body)).toBe(true);
    const actionId = r.headers[GatewayHeaders.requestId]!;
    let mine: TameFlareEvent[] = [];
    for (let i = 0; i < 50 && mine.length < 4; i++) {
      mine = (await events()).filter((e) => (e.data as { actionId?: string }).actionId === actionId);
      if (mine.length < 4) await new Promise((res) => setTimeout(res, 100));
    }
    const byType = Object.fromEntries(mine.map((e) => [e.type, e]));
    expect(Object.keys(byType).sort()).toEqual(['ActionCompleted', 'ActionDecided', 'ActionRequested', 'CredentialReleased']);
    expect(byType.ActionRequested!.data).toMatchObject({ action: { type: 'openai.chat.create', connector: 'openai' }, ingressId: 'ingress-1' });
    expect(byType.ActionDecided!.data).toMatchObject({ decision: 'allow', decidingRule: 'allow-openai', decidedBy: 'policy' });
    expect(byType.ActionDecided!.metadata.source).toBe('policy@policy-1');
    expect(byType.CredentialReleased!.data).toMatchObject({ secretName: 'openai-key', ingressId: 'ingress-1' });
    expect(byType.ActionCompleted!.data).toMatchObject({ outcome: 'completed', credential: { secretName: 'openai-key' }, status: 200 });
    expect(JSON.stringify(mine)).not.toContain(stack.secret);
  });

  it('denies by the published policy, with the rule in the 403 problem, and the upstream sees nothing', async () => {
    const before = openai.captured.length;
    const r = await sendWith('curl', { proxyUrl: stack.proxyUrl, caPem: stack.caPem }, { method: 'POST', url: 'https://api.openai.com/v1/files', body: Buffer.from('x') });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: ProblemTypes.policyDenied, action: 'openai.file.upload', rule: 'deny-file-upload' });
    expect(openai.captured.length).toBe(before);
  });
});
