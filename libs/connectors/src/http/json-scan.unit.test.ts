import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memberValue, scanJson } from './json-scan.ts';

describe('scanJson reads the top-level members as JSON.parse does', () => {
  it('agrees with JSON.parse on every member of any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.constantFrom(0, 2), (obj, indent) => {
        const text = JSON.stringify(obj, null, indent);
        const doc = scanJson(text);
        expect(doc?.kind).toBe('object');
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect([...doc!.members.keys()].sort()).toEqual(Object.keys(parsed).sort());
        for (const k of Object.keys(parsed)) expect(memberValue(doc!, k)).toEqual(parsed[k]);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects what JSON.parse rejects at the top level', () => {
    for (const bad of ['{', '{"a":1,}', '{"a" 1}', '{"a":1}x', '{"a":tru}', '{"a":"b}', '{"a":[1,2}', "{'a':1}", '{"a":01x}', '']) {
      expect(scanJson(bad), bad).toBeNull();
    }
  });

  it('decodes escaped member names and reports duplicates, last one winning', () => {
    const doc = scanJson('{"am\\u006funt": 1, "amount": 2, "s": "a\\"b"}')!;
    expect(doc.duplicates).toBe(true);
    expect(memberValue(doc, 'amount')).toBe(2);
    expect(memberValue(doc, 's')).toBe('a"b');
  });

  it('classifies arrays and scalars without members', () => {
    expect(scanJson('[1, {"a": 2}]')?.kind).toBe('array');
    expect(scanJson(' "x" ')?.kind).toBe('scalar');
  });
});
