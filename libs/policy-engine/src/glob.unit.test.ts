import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionGlobProblem, compileGlob, globsOverlap, nameGlobProblem } from './glob.ts';

/** Reference semantics, written independently: `**` is one or more whole segments, `*` any run inside one. */
function segmentMatch(pattern: string, text: string): boolean {
  if (pattern === '') return text === '';
  if (pattern[0] === '*') return [...Array(text.length + 1).keys()].some((k) => segmentMatch(pattern.slice(1), text.slice(k)));
  return text[0] === pattern[0] && segmentMatch(pattern.slice(1), text.slice(1));
}
function reference(pattern: string[], value: string[]): boolean {
  if (pattern.length === 0) return value.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') return [...Array(value.length).keys()].some((k) => reference(rest, value.slice(k + 1)));
  return value.length > 0 && segmentMatch(head!, value[0]!) && reference(rest, value.slice(1));
}

const seg = fc.stringMatching(/^[ab]{1,3}$/);
const value = fc.array(seg, { minLength: 2, maxLength: 5 }).map((s) => s.join('.'));
const patSeg = fc.oneof(seg, fc.constant('*'), fc.constant('**'), fc.stringMatching(/^[ab]{0,2}\*[ab]{0,2}$/));
const pattern = fc.array(patSeg, { minLength: 1, maxLength: 5 }).map((s) => s.join('.'));

describe('action globs', () => {
  it('agree with the reference semantics on random patterns and types', () => {
    fc.assert(
      fc.property(pattern, value, (p, v) => {
        expect(compileGlob(p, 'action').test(v)).toBe(reference(p.split('.'), v.split('.')));
      }),
      { numRuns: 3000 },
    );
  });

  it('read the way the docs say', () => {
    const g = (p: string) => compileGlob(p, 'action');
    expect(g('github.pr.*').test('github.pr.merge')).toBe(true);
    expect(g('github.pr.*').test('github.pr.review.comment')).toBe(false);
    expect(g('github.**').test('github.pr.review.comment')).toBe(true);
    expect(g('*.repo.delete').test('gitlab.repo.delete')).toBe(true);
    expect(g('github.repo.del*').test('github.repo.delete')).toBe(true);
    expect(g('github.repo.delete').test('github.repo.deletex')).toBe(false);
    expect(g('github.repo.delete').literal).toBe('github.repo.delete');
  });

  it('overlap exactly when some value matches both (checked against sampled values)', () => {
    fc.assert(
      fc.property(pattern, pattern, fc.array(value, { maxLength: 60 }), (a, b, samples) => {
        const ga = compileGlob(a, 'action');
        const gb = compileGlob(b, 'action');
        const overlap = globsOverlap(ga, gb);
        expect(globsOverlap(gb, ga)).toBe(overlap);
        // A sampled witness proves overlap; the converse is checked on the pattern's own literal form.
        if (samples.some((s) => ga.test(s) && gb.test(s))) expect(overlap).toBe(true);
        const witness = a.split('.').map((s) => (s === '**' ? 'a' : s.replace(/\*/g, ''))).join('.');
        if (ga.test(witness) && gb.test(witness)) expect(overlap).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(globsOverlap(compileGlob('github.pr.*', 'action'), compileGlob('github.**', 'action'))).toBe(true);
  });

  it('overlap if and only if some value matches both (exhaustively over a small alphabet)', () => {
    const segs = ['a', 'b', 'ab'];
    const all: string[] = [];
    const grow = (prefix: string[]) => {
      if (prefix.length) all.push(prefix.join('.'));
      if (prefix.length < 6) for (const s of segs) grow([...prefix, s]);
    };
    grow([]);
    const small = fc.array(fc.constantFrom('a', 'b', '*', '**', 'a*', '*b'), { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
    fc.assert(
      fc.property(small, small, (a, b) => {
        const ga = compileGlob(a, 'action');
        const gb = compileGlob(b, 'action');
        expect(globsOverlap(ga, gb)).toBe(all.some((v) => ga.test(v) && gb.test(v)));
      }),
      { numRuns: 2000 },
    );
    expect(globsOverlap(compileGlob('github.pr.*', 'action'), compileGlob('stripe.**', 'action'))).toBe(false);
    expect(globsOverlap(compileGlob('github.*', 'action'), compileGlob('github.pr.merge', 'action'))).toBe(false);
    expect(globsOverlap(compileGlob('mcp.tool.*', 'action'), compileGlob('mcp.*.search', 'action'))).toBe(true);
  });
});

describe('resource and name globs', () => {
  it('resource * stays inside a path segment; ** crosses', () => {
    expect(compileGlob('acme/*', 'resource').test('acme/app')).toBe(true);
    expect(compileGlob('acme/*', 'resource').test('acme/app/x')).toBe(false);
    expect(compileGlob('acme/**', 'resource').test('acme/app/x')).toBe(true);
  });
  it('name globs have no separator', () => {
    expect(compileGlob('bot-*', 'name').test('bot-a_1')).toBe(true);
    expect(compileGlob('bot-*', 'name').test('xbot-a')).toBe(false);
  });
});

describe('globs that match nothing', () => {
  it('are explained', () => {
    expect(actionGlobProblem('github')).toMatch(/at least two segments; use "github.\*\*"/);
    expect(actionGlobProblem('GitHub.repo.delete')).toMatch(/lowercase provider/);
    expect(actionGlobProblem('github..delete')).toMatch(/empty segment/);
    expect(actionGlobProblem('github.repo delete')).toMatch(/matches nothing/);
    expect(actionGlobProblem('github.re**')).toMatch(/whole segment/);
    expect(actionGlobProblem('')).toMatch(/empty/);
    expect(actionGlobProblem('**')).toBeNull();
    expect(actionGlobProblem('*.repo.delete')).toBeNull();
    expect(nameGlobProblem('Bot', 'agent')).toMatch(/matches nothing/);
    expect(nameGlobProblem('B*', 'agent')).toMatch(/matches nothing/);
    expect(nameGlobProblem('bot-*', 'agent')).toBeNull();
  });
});
