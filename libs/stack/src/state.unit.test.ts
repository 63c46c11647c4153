import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from './lock.ts';
import { pickPort } from './ports.ts';
import { readStackFile, redactUrl } from './stack-file.ts';
import { ensurePrivateDir, readPrivateFile, resolveStateDir, statePaths, writePrivateFile } from './state-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'tf-stack-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the state directory', () => {
  it('defaults to TF_STATE_DIR, else ~/.tameflare', () => {
    expect(resolveStateDir(undefined, { TF_STATE_DIR: '/srv/tf' })).toBe('/srv/tf');
    expect(resolveStateDir('rel', {})).toBe(join(process.cwd(), 'rel'));
    expect(resolveStateDir(undefined, {})).toMatch(/\.tameflare$/);
  });

  it('writes secrets 0600 in 0700 directories and refuses to read one others can read', () => {
    const p = statePaths(join(dir, 'state'));
    writePrivateFile(p.masterKey, 'k\n');
    expect(statSync(p.masterKey).mode & 0o777).toBe(0o600);
    expect(statSync(p.vaultDir).mode & 0o777).toBe(0o700);
    expect(readPrivateFile(p.masterKey)).toBe('k\n');
    chmodSync(p.masterKey, 0o644);
    expect(() => readPrivateFile(p.masterKey)).toThrow(expect.objectContaining({ code: 'TF_ERR_STACK_INSECURE_FILE', hint: `chmod 600 ${p.masterKey}` }));
    expect(readPrivateFile(join(dir, 'absent'))).toBeNull();
  });

  it('refuses a stack file it does not understand, with a hint', () => {
    const p = statePaths(join(dir, 'bad'));
    ensurePrivateDir(p.root);
    writeFileSync(p.stackFile, '{"version": 7}', { mode: 0o600 });
    expect(() => readStackFile(p)).toThrow(expect.objectContaining({ code: 'TF_ERR_STACK_STATE' }));
  });

  it('never shows a database password', () => {
    expect(redactUrl('postgres://tf:s3cret@db:5432/tameflare')).toBe('postgres://tf:***@db:5432/tameflare');
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/tameflare')).toBe('postgres://postgres@127.0.0.1:5432/tameflare');
  });
});

describe('the lock', () => {
  it('lets one tf up or tf down work on a state directory at a time, and takes over a dead owner’s lock', () => {
    const p = statePaths(join(dir, 'locked'));
    ensurePrivateDir(p.root);
    writeFileSync(p.lockFile, '1');
    expect(() => acquireLock(p)).toThrow(expect.objectContaining({ code: 'TF_ERR_STACK_LOCKED' }));
    writeFileSync(p.lockFile, '999999999');
    const release = acquireLock(p);
    release();
  });
});

describe('ports', () => {
  it('insists on an explicit port, prefers the preferred one, and never hands one out twice', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as { port: number }).port;
    try {
      await expect(pickPort('proxy', new Set(), taken)).rejects.toMatchObject({ code: 'TF_ERR_STACK_PORT_IN_USE' });
      const other = await pickPort('x', new Set(), undefined, taken);
      expect(other).not.toBe(taken);
      const handed = new Set<number>();
      const a = await pickPort('a', handed);
      await expect(pickPort('b', handed, a)).rejects.toMatchObject({ code: 'TF_ERR_STACK_PORT_IN_USE' });
      expect(await pickPort('c', handed, undefined, a)).not.toBe(a);
    } finally {
      busy.close();
    }
  });
});
