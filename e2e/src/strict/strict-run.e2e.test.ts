/**
 * `tf run --strict` on Linux: a client that ignores the proxy variables (TLS straight to the
 * upstream's address) reaches the API without `--strict`, unseen by the gateway; with `--strict`
 * the same client fails, no other address is reachable, there is no DNS, and the same agent's
 * ordinary requests through the proxy are governed as usual (credential injected, audited).
 *
 * Needs root or unprivileged user namespaces (the CI machine runs as root).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTfStack, type TfStack } from '../harness/index.ts';

const AGENT = join(import.meta.dirname, 'bypass-agent.ts');

let stack: TfStack;
beforeAll(async () => {
  stack = await startTfStack({ providers: ['github'] });
}, 180_000);
afterAll(async () => stack?.stop(), 60_000);

type Line = { attempt: string; ok: boolean; code?: string; status?: number; tries?: number };
const lines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
const bypasses = () => stack.upstream('github').requests.filter((r) => r.url === '/bypass');
const rawTarget = () => `127.0.0.1:${stack.upstream('github').port}`;

describe('tf run --strict', () => {
  it('without --strict, a client that ignores the proxy reaches the upstream directly: the gap strict mode closes', async () => {
    const before = bypasses().length;
    const r = await stack.tf(['run', '--', 'bypass-agent', process.execPath, AGENT, '--raw', rawTarget()]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([expect.objectContaining({ attempt: 'raw', ok: true, status: 401 })]);
    expect(bypasses().length).toBe(before + 1);
  });

  it('with --strict, the raw client, any other address and DNS fail; the proxy is the only way out, and it is governed', async () => {
    const before = bypasses().length;
    const authorizedBefore = stack.upstream('github').requests.filter((x) => x.authorized).length;
    const r = await stack.tf([
      'run', '--strict', '--json', '--', 'strict-agent', process.execPath, AGENT,
      '--raw', rawTarget(), '--unroutable', '192.0.2.1:443', '--dns', 'api.github.com', '--proxy', 'https://api.github.com/repos/acme/widgets',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [raw, unroutable, dns, proxy] = lines(r.stdout);
    expect(raw).toMatchObject({ attempt: 'raw', ok: false, code: 'ECONNREFUSED' });
    expect(unroutable).toMatchObject({ attempt: 'unroutable', ok: false, code: 'ENETUNREACH' });
    expect(dns).toMatchObject({ attempt: 'dns', ok: false });
    expect(proxy).toMatchObject({ attempt: 'proxy', ok: true, status: 200 });
    expect(bypasses().length).toBe(before);
    // Through the gateway: the credential was injected upstream, and the run's action is audited.
    expect(stack.upstream('github').requests.filter((x) => x.authorized).length).toBe(authorizedBefore + 1);
    const summary = JSON.parse(r.stderr.trim().split('\n').reverse().find((l) => l.startsWith('{"summary"'))!).summary as { actions: { total: number; allowed: number } };
    // Every attempt through the proxy is an audited action; only the last was allowed and forwarded.
    expect(summary.actions).toMatchObject({ total: proxy!.tries, allowed: 1 });
  });

  it('passes the exit code and signals through, and leaves no namespace process behind', async () => {
    const r = await stack.tf(['run', '--strict', '--quiet', '--', 'exit-agent', process.execPath, AGENT, '--exit', '3']);
    expect(r.code, r.stderr).toBe(3);
    const sleeper = stack.spawnTf(['run', '--strict', '--quiet', '--', 'sleep-agent', '/bin/sleep', '30']);
    await new Promise((res) => setTimeout(res, 1500));
    sleeper.child.kill('SIGTERM');
    const done = await sleeper.done;
    expect(done.code).toBe(128 + 15);
    expect(sleeper.stderr()).not.toMatch(/tf run --strict:/);
  });

  it('refuses a command that does not exist before setting anything up', async () => {
    const r = await stack.tf(['run', '--strict', '--', 'ghost-agent', 'no-such-command-here']);
    expect(r.code).toBe(127);
  });
});
