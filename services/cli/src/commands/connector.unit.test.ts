import { describe, expect, it } from 'vitest';
import { KINDS, parseInjection } from './connector.ts';

describe('--injection', () => {
  it('reads every rule the vault can apply', () => {
    expect(parseInjection('bearer')).toEqual({ kind: 'bearer' });
    expect(parseInjection('basic')).toEqual({ kind: 'basic' });
    expect(parseInjection('basic:api')).toEqual({ kind: 'basic', username: 'api' });
    expect(parseInjection('header:X-Api-Key')).toEqual({ kind: 'header', name: 'X-Api-Key' });
    expect(parseInjection('header:Authorization:Token ')).toEqual({ kind: 'header', name: 'Authorization', prefix: 'Token ' });
    expect(parseInjection('query:api_key')).toEqual({ kind: 'query', name: 'api_key' });
    expect(parseInjection('none')).toBeNull();
  });
  it('refuses anything else, naming the forms', () => {
    for (const bad of ['cookie:x', 'header', 'query', 'query:a:b', 'bearer:x', 'none:x', 'basic:a:b', '']) {
      expect(() => parseInjection(bad), bad).toThrow(/is not an injection rule/);
    }
  });
});

describe('connector kinds in help and messages', () => {
  it('are the library\'s own list', async () => {
    const { CONNECTOR_KINDS } = await import('@tameflare/connectors');
    expect([...KINDS].sort()).toEqual([...CONNECTOR_KINDS].sort());
  });
});
