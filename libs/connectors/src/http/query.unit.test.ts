import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFormComponent, parsePairs } from './query.ts';

describe('form and query decoding', () => {
  it('decodes as URLSearchParams does, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (k, v) => {
        const encoded = new URLSearchParams([[k, v]]).toString();
        const parsed = parsePairs(encoded);
        const expected = [...new URLSearchParams(encoded)];
        expect([...parsed.values.entries()]).toEqual(expected.length ? [[expected[0]![0], expected[0]![1]]] : []);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps malformed escapes as written and never throws', () => {
    expect(decodeFormComponent('a%zzb')).toBe('a%zzb');
    expect(decodeFormComponent('%E2%82')).toBe('%E2%82');
    expect(decodeFormComponent('metadata%5Border%5D+id')).toBe('metadata[order] id');
  });

  it('reports repeated keys, except explicit lists (`a[]`)', () => {
    expect(parsePairs('a=1&a=2').duplicates).toBe(true);
    expect(parsePairs('expand[]=x&expand[]=y')).toEqual({ values: new Map([['expand[]', ['x', 'y']]]), duplicates: false });
  });
});
