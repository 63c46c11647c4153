import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { diffLines, diffStats, foldUnchanged } from './diff.ts';

const join = (lines: string[]) => (lines.length ? lines.join('\n') + '\n' : '');

describe('diffLines', () => {
  it('shows a changed rule as one removed and one added line, with line numbers on both sides', () => {
    const a = 'rules:\n  - id: a\n    effect: allow\n  - id: b\n';
    const b = 'rules:\n  - id: a\n    effect: deny\n  - id: b\n';
    const d = diffLines(a, b);
    expect(d.filter((l) => l.kind !== 'same')).toEqual([
      { kind: 'removed', text: '    effect: allow', oldLine: 3, newLine: null },
      { kind: 'added', text: '    effect: deny', oldLine: null, newLine: 3 },
    ]);
    expect(d.at(-1)).toEqual({ kind: 'same', text: '  - id: b', oldLine: 4, newLine: 4 });
    expect(diffStats(d)).toEqual({ added: 1, removed: 1 });
  });

  it('identical texts have no changes; an empty side is all added or all removed', () => {
    expect(diffStats(diffLines('x\ny\n', 'x\ny\n'))).toEqual({ added: 0, removed: 0 });
    expect(diffStats(diffLines('', 'x\ny'))).toEqual({ added: 2, removed: 0 });
    expect(diffStats(diffLines('x\r\ny\r\n', ''))).toEqual({ added: 0, removed: 2 });
  });

  test.prop([fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 }), fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 })])(
    'rebuilds both texts, and keeps a longest common subsequence',
    (a, b) => {
      const d = diffLines(join(a), join(b));
      expect(d.filter((l) => l.kind !== 'added').map((l) => l.text)).toEqual(a);
      expect(d.filter((l) => l.kind !== 'removed').map((l) => l.text)).toEqual(b);
      // LCS length by the textbook recurrence.
      const L = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) L[i]![j] = a[i] === b[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
      expect(d.filter((l) => l.kind === 'same').length).toBe(L[0]![0]);
    },
  );
});

describe('foldUnchanged', () => {
  it('keeps three lines of context around a change and folds the rest', () => {
    const old = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const changed = old.map((l, i) => (i === 9 ? 'line 10 changed' : l));
    const folded = foldUnchanged(diffLines(join(old), join(changed)));
    expect(folded.map((l) => (l.kind === 'gap' ? `… ${l.count}` : `${l.kind} ${l.text}`))).toEqual([
      '… 6',
      'same line 7',
      'same line 8',
      'same line 9',
      'removed line 10',
      'added line 10 changed',
      'same line 11',
      'same line 12',
      'same line 13',
      '… 7',
    ]);
  });
  it('does not fold a run that is barely longer than its context', () => {
    expect(foldUnchanged(diffLines('a\nb\nc\nd\nx\n', 'a\nb\nc\nd\ny\n')).some((l) => l.kind === 'gap')).toBe(false);
    expect(foldUnchanged(diffLines('a\nb\nc\nd\ne\nx\n', 'a\nb\nc\nd\ne\ny\n'))[0]).toEqual({ kind: 'gap', count: 2 });
    expect(foldUnchanged(diffLines('a\nx\n', 'a\ny\n')).map((l) => l.kind)).toEqual(['same', 'removed', 'added']);
  });
});
