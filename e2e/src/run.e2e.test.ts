/**
 * `tf run` as a process wrapper: the agent's exit code, signals and stdin pass through, the run's
 * end is recorded, and bad input gets one clear line and a hint, with nothing started.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSummaryOf, startTfStack, tf, type TfStack } from './harness/index.ts';

let stack: TfStack;
const scratch = mkdtempSync(join(tmpdir(), 'tf-e2e-run-'));
beforeAll(async () => {
  stack = await startTfStack({ providers: ['github'] });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

const AGENT_WITH_HANDLERS = `
process.on('SIGTERM', () => { console.log('agent got SIGTERM'); process.exit(0); });
process.on('SIGINT', () => { console.log('agent got SIGINT'); process.exit(3); });
console.log('ready');
setInterval(() => {}, 1000);
`;

describe('pass-through', () => {
  it('exits with the agent’s exit code and records the run’s end with it', async () => {
    const r = await stack.tf(['run', '--json', '--', 'exiter', 'sh', '-c', 'echo out; echo err >&2; exit 42']);
    expect(r.code).toBe(42);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr.startsWith('err\n')).toBe(true);
    const summary = runSummaryOf(r);
    expect(summary).toMatchObject({ exitCode: 42, signal: null });
    const ended = (await stack.storedEvents('AgentRunEnded')).find((e) => e.data.runId === summary.runId);
    expect(ended?.data).toMatchObject({ exitCode: 42, signal: null, agentId: 'exiter' });
  }, 30_000);

  it('hands stdin to the agent unchanged', async () => {
    const input = 'first line\nsecond line with ünïcode\n' + 'x'.repeat(200_000) + '\n';
    const r = await stack.tf(['run', '--quiet', '--', 'cat-agent', 'cat'], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(input);
  }, 30_000);

  it.each([
    ['SIGTERM', 0, 'agent got SIGTERM'],
    ['SIGINT', 3, 'agent got SIGINT'],
  ] as const)('forwards %s to an agent that handles it, and exits as the agent did', async (signal, code, said) => {
    const p = stack.spawnTf(['run', '--json', '--', 'signal-agent', process.execPath, '-e', AGENT_WITH_HANDLERS]);
    await p.waitForOutput('ready');
    process.kill(p.pid, signal);
    const r = await p.done;
    expect(r.code).toBe(code);
    expect(r.stdout).toContain(said);
    expect(runSummaryOf(r)).toMatchObject({ exitCode: code, signal: null });
  }, 30_000);

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('exits 128+n when %s ends an agent that does not handle it, and records the signal', async (signal, code) => {
    const p = stack.spawnTf(['run', '--json', '--', 'sleeper', 'sh', '-c', 'echo ready; exec sleep 30']);
    await p.waitForOutput('ready');
    process.kill(p.pid, signal);
    const r = await p.done;
    expect(r.code).toBe(code);
    const summary = runSummaryOf(r);
    expect(summary).toMatchObject({ exitCode: null, signal });
    const ended = (await stack.storedEvents('AgentRunEnded')).find((e) => e.data.runId === summary.runId);
    expect(ended?.data).toMatchObject({ signal });
  }, 30_000);
});

describe('bad input', () => {
  it('refuses each with one line and a hint, and starts nothing', async () => {
    const runsBefore = (await stack.storedEvents('AgentRunStarted')).length;
    const marker = join(scratch, 'agent-ran');
    const cases: { args: string[]; code: number; message: RegExp; stateDir?: string }[] = [
      { args: ['run'], code: 1, message: /^tf: no agent name and no command given\n  hint: tf run -- my-agent python agent\.py\n$/ },
      { args: ['run', '--', 'lonely-agent'], code: 1, message: /^tf: no command to run for agent "lonely-agent"\n  hint: / },
      { args: ['run', '--gateway', 'nope', '--', 'a', 'touch', marker], code: 1, message: /^tf: gateway "nope" does not exist\n  hint: tf up creates the gateway "default"/ },
      { args: ['run', '--gateway', 'Not A Gateway', '--', 'a', 'touch', marker], code: 1, message: /^tf: invalid gateway id/ },
      { args: ['run', '--', 'a', 'no-such-command-tf-e2e'], code: 127, message: /^tf: no-such-command-tf-e2e: command not found\n  hint: / },
      { args: ['run', '--', 'a', join(scratch, 'missing', 'agent.sh')], code: 127, message: /command not found\n  hint: check the path/ },
      { args: ['run', '--bogus', '--', 'a', 'true'], code: 1, message: /^tf: unknown option --bogus for tf run\n  hint: see tf run --help\n$/ },
      { args: ['run', '--', 'a', 'touch', marker], code: 1, message: /^tf: the TameFlare stack is not running .*\n  hint: start it with tf up\n$/, stateDir: join(scratch, 'no-stack') },
      { args: ['kill'], code: 1, message: /^tf: no scope given\n  hint: tf kill --all \| --gateway G/ },
      { args: ['kill', '--all', '--agent', 'x'], code: 1, message: /^tf: choose one scope only\n/ },
      { args: ['kill', '--agent', 'Not An Agent'], code: 1, message: /^tf: invalid agent id "Not An Agent"/ },
      { args: ['kill', '--release', '--connector', 'github'], code: 1, message: /^tf: no kill switch is engaged on connector\.github\n  hint: / },
      { args: ['kill', 'everything'], code: 1, message: /^tf: unexpected argument "everything"\n/ },
    ];
    for (const c of cases) {
      const r = c.stateDir ? await tf(c.args, { stateDir: c.stateDir }) : await stack.tf(c.args);
      expect({ args: c.args, code: r.code }).toEqual({ args: c.args, code: c.code });
      expect(r.stderr, `tf ${c.args.join(' ')}`).toMatch(c.message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(marker)).toBe(false);
    expect((await stack.storedEvents('AgentRunStarted')).length).toBe(runsBefore);
    expect(await stack.storedEvents('KillSwitchEngaged')).toEqual([]);
  }, 60_000);
});
