import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.ts';

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

// No stack runs in this state directory: every refusal here comes before tf connects to one.
const stateDir = mkdtempSync(join(tmpdir(), 'tf-secret-unit-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const VALUE = 'sk_live_51H8abcdefghijklmnopqrstuvwxyz0123456789';

async function tf(argv: string[], env: Record<string, string> = {}) {
  const out = capture();
  const err = capture();
  const code = await main(['--state-dir', stateDir, ...argv], { stdout: out.stream, stderr: err.stream, env: { ...env, TF_STATE_DIR: stateDir }, cwd: stateDir });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('tf secret set', () => {
  it('refuses a value on the command line with exit 1, one line and a hint, never repeating it', async () => {
    for (const argv of [['secret', 'set', 'stripe', VALUE], ['secret', 'rotate', 'stripe', VALUE, '--from-env', 'X'], ['secret', 'set', VALUE]]) {
      const r = await tf(argv);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(2);
      expect(r.stderr).toMatch(/^tf: .+\n {2}hint: .+\n$/);
      expect(r.stderr).not.toContain(VALUE);
    }
    const json = await tf(['--json', 'secret', 'set', 'stripe', VALUE]);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'TF_ERR_CLI_USAGE', message: expect.stringContaining('never taken from the command line'), hint: expect.stringContaining('--from-env') } });
  });

  it('needs a running stack only once the value is read and valid', async () => {
    const r = await tf(['secret', 'set', 'stripe', '--from-env', 'KEY'], { KEY: VALUE });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the TameFlare stack is not running');
    expect(r.stderr).toContain('hint: start it with tf up');
    expect(r.stderr).not.toContain(VALUE);
  });
});
