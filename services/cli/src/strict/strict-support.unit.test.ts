import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { checkStrictSupport } from './strict-support.ts';

describe('tf run --strict support check', () => {
  it('refuses outside Linux with a one-line reason and a hint', () => {
    let err: unknown;
    try {
      checkStrictSupport({ PATH: '/usr/bin' }, 'darwin', 501);
    } catch (e) {
      err = e;
    }
    expect(isTameFlareError(err, 'TF_ERR_CLI_STRICT_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toBe('tf run --strict needs Linux network namespaces (this is darwin)');
    expect((err as { exitCode: number }).exitCode).toBe(1);
  });

  it('finds unshare and ip on this Linux machine', () => {
    const tools = checkStrictSupport({ PATH: '/usr/bin:/bin' }, 'linux', 0);
    expect(tools.unshare).toMatch(/\/unshare$/);
    expect(tools.ip).toMatch(/\/ip$/);
  });
});
