import { isValidName } from '@tameflare/contracts';

/**
 * What a glob is matched against. The separator decides what `*` may cross:
 * - `action`: action types (`github.pr.merge`); `*` stays inside one dot-separated segment,
 *   `**` crosses segments (`github.**` is every GitHub action).
 * - `resource`: resources (`acme/app`, `acme/app#12`); `*` stays inside one `/` segment, `**` crosses.
 * - `name`: agent, gateway and connector ids, which have no separator; `*` and `**` are the same.
 */
export type GlobKind = 'action' | 'resource' | 'name';

type Token = { t: 'lit'; c: string } | { t: 'seg' } | { t: 'any' };

/** A compiled glob. */
export interface Glob {
  readonly pattern: string;
  readonly kind: GlobKind;
  /** The whole pattern when it has no wildcard, else null. */
  readonly literal: string | null;
  test(value: string): boolean;
}

const SEPARATOR: Record<GlobKind, string | null> = { action: '.', resource: '/', name: null };

interface CompiledGlob extends Glob {
  readonly tokens: readonly Token[];
}

function tokenize(pattern: string, kind: GlobKind): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c !== '*') {
      out.push({ t: 'lit', c });
      continue;
    }
    let j = i;
    while (pattern[j + 1] === '*') j++;
    // A run of two or more stars is `**`; where there is no separator, `*` is `**` too.
    out.push(j > i || SEPARATOR[kind] === null ? { t: 'any' } : { t: 'seg' });
    i = j;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Compiles a glob; `*` and `**` are the only special characters. */
export function compileGlob(pattern: string, kind: GlobKind): Glob {
  const tokens = tokenize(pattern, kind);
  if (tokens.every((t) => t.t === 'lit')) {
    return { pattern, kind, literal: pattern, tokens, test: (v: string) => v === pattern } as CompiledGlob;
  }
  const sep = SEPARATOR[kind];
  const seg = sep === null ? '[\\s\\S]*' : `[^${escapeRegExp(sep)}]*`;
  let src = '^';
  for (const t of tokens) src += t.t === 'lit' ? escapeRegExp(t.c) : t.t === 'seg' ? seg : '[\\s\\S]*';
  const re = new RegExp(src + '$');
  return { pattern, kind, literal: null, tokens, test: (v: string) => re.test(v) } as CompiledGlob;
}

/**
 * True when some string matches both globs (of the same kind). Used to find rule globs that
 * match nothing in the connector catalog, where the catalog itself lists action-type globs
 * for open families such as `mcp.tool.*`.
 */
export function globsOverlap(a: Glob, b: Glob): boolean {
  const x = (a as CompiledGlob).tokens;
  const y = (b as CompiledGlob).tokens;
  const sep = SEPARATOR[a.kind];
  const admits = (w: Token, c: string) => w.t === 'any' || (w.t === 'seg' && c !== sep);
  const seen = new Set<number>();
  const stack: [number, number][] = [[0, 0]];
  const width = y.length + 1;
  while (stack.length) {
    const [i, j] = stack.pop()!;
    const key = i * width + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === x.length && j === y.length) return true;
    const p = x[i];
    const q = y[j];
    if (p && p.t !== 'lit') stack.push([i + 1, j]);
    if (q && q.t !== 'lit') stack.push([i, j + 1]);
    if (!p || !q) continue;
    if (p.t === 'lit' && q.t === 'lit') {
      if (p.c === q.c) stack.push([i + 1, j + 1]);
    } else if (p.t === 'lit') {
      if (admits(q, p.c)) stack.push([i + 1, j]);
    } else if (q.t === 'lit') {
      if (admits(p, q.c)) stack.push([i, j + 1]);
    }
  }
  return false;
}

const ACTION_GLOB_CHARS = /^[A-Za-z0-9_:/\-.*]+$/;
const PROVIDER = /^[a-z0-9_]+$/;
const NAME_GLOB_CHARS = /^[a-z0-9_*-]+$/;

/**
 * Why an action-type glob can never match a well-formed action type, or null when it can.
 * Action types are `provider.resource.verb`: a lowercase provider and at least two segments.
 */
export function actionGlobProblem(pattern: string): string | null {
  if (pattern === '') return 'an action glob cannot be empty';
  if (!ACTION_GLOB_CHARS.test(pattern)) {
    return `action glob "${pattern}" matches nothing: action types contain only letters, digits and _ : / - separated by dots`;
  }
  const segments = pattern.split('.');
  if (segments.some((s) => s === '')) return `action glob "${pattern}" matches nothing: it has an empty segment`;
  if (segments.some((s) => s.includes('**') && s !== '**')) {
    return `action glob "${pattern}" is ambiguous: "**" must be a whole segment (as in "github.**")`;
  }
  const first = segments[0]!;
  if (!first.includes('*') && !PROVIDER.test(first)) {
    return `action glob "${pattern}" matches nothing: action types start with a lowercase provider (such as "github")`;
  }
  if (segments.length < 2 && !pattern.includes('**')) {
    return `action glob "${pattern}" matches nothing: action types have at least two segments; use "${first}.**" to match every ${first} action`;
  }
  return null;
}

/** Why an agent, gateway or connector glob can never match an id, or null when it can. */
export function nameGlobProblem(pattern: string, what: string): string | null {
  if (pattern === '') return `a ${what} glob cannot be empty`;
  if (!pattern.includes('*')) {
    return isValidName(pattern) ? null : `${what} "${pattern}" matches nothing: ids are lowercase letters, digits, "-" and "_" (at most 63)`;
  }
  return NAME_GLOB_CHARS.test(pattern) ? null : `${what} glob "${pattern}" matches nothing: ids are lowercase letters, digits, "-" and "_"`;
}
