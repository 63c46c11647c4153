import { describe, expect, it } from 'vitest';
import { TameFlareError } from '@tameflare/contracts';
import { CliError } from '../errors.ts';
import { refusalsAreUserErrors } from './refusals.ts';

describe('refusals the user can fix', () => {
  it('become exit 1 with their message and hint; anything else passes through unchanged', async () => {
    const missing = new TameFlareError('TF_ERR_VAULT_SECRET_MISSING', 'secret "github" is not set', { details: { secretName: 'github' } });
    const err = (await refusalsAreUserErrors(Promise.reject(missing), { TF_ERR_VAULT_SECRET_MISSING: (d) => `tf secret set ${String(d.secretName)}` }).catch((e: unknown) => e)) as CliError;
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'TF_ERR_VAULT_SECRET_MISSING', message: 'secret "github" is not set', exitCode: 1, hint: 'tf secret set github', cause: missing });
    const down = new TameFlareError('TF_ERR_NATS_NO_RESPONDERS', 'no responders');
    expect(await refusalsAreUserErrors(Promise.reject(down), { TF_ERR_VAULT_SECRET_MISSING: 'x' }).catch((e: unknown) => e)).toBe(down);
    expect(await refusalsAreUserErrors(Promise.resolve(7), {})).toBe(7);
  });
});
