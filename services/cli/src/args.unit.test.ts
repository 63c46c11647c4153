import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from './args.ts';
import { main } from './main.ts';
import { defineCommand } from './registry.ts';
import { Writable } from 'node:stream';

const run = defineCommand({
  name: 'run',
  summary: 's',
  usage: 'u',
  passThrough: true,
  options: { name: { type: 'string', description: 'n' }, gateway: { type: 'string', description: 'g' }, quiet: { type: 'boolean', description: 'q' } },
  run: async () => 0,
});

describe('arguments', () => {
  it('leaves everything after the agent name to the agent', () => {
    expect(parseCommandArgs(run, ['--gateway', 'g', '--', 'my-agent', 'python', 'a.py', '--gateway', 'x']).positionals).toEqual(['my-agent', 'python', 'a.py', '--gateway', 'x']);
    const p = parseCommandArgs(run, ['--quiet', 'my-agent', 'node', 'app.js', '--port', '1']);
    expect(p.values.quiet).toBe(true);
    expect(p.positionals).toEqual(['my-agent', 'node', 'app.js', '--port', '1']);
    expect(parseCommandArgs(run, ['--name', 'bot', '--', 'node', '-e', '1']).positionals).toEqual(['node', '-e', '1']);
  });
  it('refuses unknown options and missing values with the help to read', () => {
    expect(() => parseCommandArgs(run, ['--nmae', 'x', '--', 'a', 'b'])).toThrow(/unknown option --nmae for tf run/);
    expect(() => parseCommandArgs(run, ['--gateway'])).toThrow(/--gateway/);
  });
});

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

describe('tf', () => {
  it('lists every command, shows each one’s help, and refuses unknown commands with exit 1', async () => {
    const out = capture();
    expect(await main(['--help'], { stdout: out.stream })).toBe(0);
    for (const c of ['up', 'down', 'status', 'run', 'kill']) expect(out.text()).toMatch(new RegExp(`\\n  ${c} `));
    const help = capture();
    expect(await main(['run', '--help'], { stdout: help.stream })).toBe(0);
    expect(help.text()).toContain('Usage: tf run');
    expect(help.text()).toContain('--gateway G');
    const err = capture();
    expect(await main(['frobnicate'], { stderr: err.stream })).toBe(1);
    expect(err.text()).toBe('tf: unknown command "frobnicate"\n  hint: tf --help lists the commands\n');
  });
  it('answers a bad option with one line and a hint, as JSON with --json', async () => {
    const err = capture();
    expect(await main(['--json', 'kill', '--all', '--gateway', 'x'], { stderr: err.stream })).toBe(1);
    expect(JSON.parse(err.text())).toEqual({ error: { code: 'TF_ERR_CLI_USAGE', message: 'choose one scope only', hint: expect.stringContaining('tf kill --all') } });
  });
});
