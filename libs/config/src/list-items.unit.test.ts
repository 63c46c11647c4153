import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.ts';

describe('a bad item in a list setting', () => {
  const Schema = Type.Object({
    approval: Type.Object({ voters: Type.Array(Type.String({ pattern: '^[A-Z]+=[a-z]+$' }), { default: [] }) }),
    processors: Type.Array(Type.Union([Type.Literal('a'), Type.Literal('b')]), { default: ['a'] }),
  });

  it('is reported under the variable the operator sets, not an indexed name', () => {
    let err: ConfigError | undefined;
    try {
      loadConfig(Schema, { env: { TF_APPROVAL_VOTERS: 'U1=alice,bad item', TF_PROCESSORS: 'a,c' } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems.map((p) => p.variable).sort()).toEqual(['TF_APPROVAL_VOTERS', 'TF_PROCESSORS']);
    expect(err!.message).not.toMatch(/TF_[A-Z_]+_\d+:/);
  });
});
