import { describe, expect, it } from 'vitest';
import { createSchema } from 'graphql-yoga';
import { parse } from './graphql-runtime.ts';
import { typeDefs } from './type-defs.ts';
import { estimateCost } from './limits.ts';

const schema = createSchema({ typeDefs });

describe('estimateCost', () => {
  it('multiplies by page sizes, from literals or variables, with 50 by default', () => {
    const q = 'query($n: Int) { actions(first: $n) { nodes { id type } } }';
    expect(estimateCost(schema, parse(q), { n: 10 })).toBe(1 + 10 * (1 + 2));
    expect(estimateCost(schema, parse(q), { n: 10_000 })).toBe(1 + 500 * (1 + 2));
    expect(estimateCost(schema, parse('{ actions { nodes { id } } }'), {})).toBe(1 + 50 * 2);
  });
  it('follows fragments and nested connections', () => {
    const q = '{ runs(first: 20) { nodes { ...R } } } fragment R on Run { id actions(first: 30) { nodes { id } } }';
    expect(estimateCost(schema, parse(q), {})).toBe(1 + 20 * (1 + 1 + 1 + 30 * (1 + 1)));
    // Lists that are not pages (votes) count as ten each.
    expect(estimateCost(schema, parse('{ approval(id: "x") { votes { voter } } }'), {})).toBe(1 + 1 + 10);
  });
});
