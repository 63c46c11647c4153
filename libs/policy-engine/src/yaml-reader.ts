import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar } from 'yaml';
import { editDistance } from './cel.ts';
import type { PolicyIssue } from './errors.ts';

/**
 * Reads a YAML document while keeping positions, so every validation message can say
 * `file:line:col`. Collects issues instead of throwing, so one pass reports all of them.
 */
export interface YamlReader {
  readonly file: string;
  readonly source: string;
  readonly issues: PolicyIssue[];
  readonly root: Node | null;
  /** Records an issue at a node (or a character offset; null means the start of the file). */
  issue(at: Node | number | null | undefined, path: string, message: string): void;
  /** Line and column (1-based) of a character offset. */
  position(offset: number): { line: number; col: number };
}

/** One `key: value` of a mapping, with the key's node for positions. */
export interface Entry {
  key: Scalar;
  value: Node | null;
}

export function createYamlReader(source: string, file: string): YamlReader {
  const lc = new LineCounter();
  const issues: PolicyIssue[] = [];
  const position = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const issue = (at: Node | number | null | undefined, path: string, message: string) => {
    const offset = typeof at === 'number' ? at : (at?.range?.[0] ?? 0);
    issues.push({ file, ...position(offset), message, path });
  };
  let root: Node | null = null;
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  for (const e of doc.errors) {
    const msg = e.code === 'DUPLICATE_KEY' ? 'duplicate key: a mapping cannot repeat a key' : e.message.split('\n')[0]!;
    issue(e.pos[0], '', `invalid YAML: ${msg}`);
  }
  if (doc.errors.length === 0) root = (doc.contents as Node | null) ?? null;
  return { file, source, issues, root, issue, position };
}

/** The value of a dotted path element for messages: `rules[2].match`. */
export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function suggest(name: string, allowed: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(name, a);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/**
 * Reads a mapping whose keys must come from `allowed`; reports unknown keys (with a "did you
 * mean") and missing required keys. Returns null when the node is not a mapping.
 */
export function readMap(
  r: YamlReader,
  node: Node | null | undefined,
  path: string,
  what: string,
  allowed: readonly string[],
  required: readonly string[] = [],
  at?: Node | null,
): Map<string, Entry> | null {
  if (!isMap(node)) {
    r.issue(node ?? at, path, `${what} must be a mapping (key: value lines)`);
    return null;
  }
  const out = new Map<string, Entry>();
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') {
      r.issue(key, path, `${what} keys must be plain names`);
      continue;
    }
    if (!allowed.includes(key.value)) {
      r.issue(key, join(path, key.value), `unknown field "${key.value}" in ${what}${suggest(key.value, allowed)}; allowed: ${allowed.join(', ')}`);
      continue;
    }
    out.set(key.value, { key, value: pair.value ?? null });
  }
  for (const k of required) {
    if (!out.has(k)) r.issue(at ?? node, path, `${what} is missing required field "${k}"`);
  }
  return out;
}

/** A mapping whose keys are names chosen by the author (such as aggregate names). */
export function readNamedMap(r: YamlReader, node: Node | null | undefined, path: string, what: string, at?: Node | null): Entry[] {
  if (!isMap(node)) {
    r.issue(node ?? at, path, `${what} must be a mapping (name: definition lines)`);
    return [];
  }
  const out: Entry[] = [];
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string') r.issue(key, path, `${what} keys must be plain names`);
    else out.push({ key, value: pair.value ?? null });
  }
  return out;
}

/** A string scalar (numbers and booleans are refused: `effect: yes` is a mistake, not a string). */
export function readString(r: YamlReader, e: Entry | undefined, path: string, what: string, options: { max?: number; pattern?: RegExp; patternHint?: string } = {}): string | null {
  if (!e) return null;
  const v = e.value;
  if (!isScalar(v) || typeof v.value !== 'string') {
    r.issue(v ?? e.key, path, `${what} must be text`);
    return null;
  }
  if (options.max !== undefined && v.value.length > options.max) {
    r.issue(v, path, `${what} is longer than ${options.max} characters`);
    return null;
  }
  if (options.pattern && !options.pattern.test(v.value)) {
    r.issue(v, path, `${what} "${v.value}" is not valid${options.patternHint ? `: ${options.patternHint}` : ''}`);
    return null;
  }
  return v.value;
}

/** An integer scalar within bounds. */
export function readInt(r: YamlReader, e: Entry | undefined, path: string, what: string, min: number, max: number): number | null {
  if (!e) return null;
  const v = e.value;
  if (!isScalar(v) || typeof v.value !== 'number' || !Number.isInteger(v.value) || v.value < min || v.value > max) {
    r.issue(v ?? e.key, path, `${what} must be a whole number from ${min} to ${max}`);
    return null;
  }
  return v.value;
}

/** A finite number scalar. */
export function readNumber(r: YamlReader, e: Entry | undefined, path: string, what: string): number | null {
  if (!e) return null;
  const v = e.value;
  if (!isScalar(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) {
    r.issue(v ?? e.key, path, `${what} must be a number`);
    return null;
  }
  return v.value;
}

/** A boolean scalar. */
export function readBool(r: YamlReader, e: Entry | undefined, path: string, what: string): boolean | null {
  if (!e) return null;
  const v = e.value;
  if (!isScalar(v) || typeof v.value !== 'boolean') {
    r.issue(v ?? e.key, path, `${what} must be true or false`);
    return null;
  }
  return v.value;
}

/** A list of strings; a single string is accepted as a list of one. Each item is returned with its node. */
export function readStringList(r: YamlReader, e: Entry | undefined, path: string, what: string): { value: string; node: Node }[] | null {
  if (!e) return null;
  const v = e.value;
  if (isScalar(v) && typeof v.value === 'string') return [{ value: v.value, node: v }];
  if (!isSeq(v)) {
    r.issue(v ?? e.key, path, `${what} must be a list of text`);
    return null;
  }
  if (v.items.length === 0) {
    r.issue(v, path, `${what} cannot be empty (leave the field out to match anything)`);
    return null;
  }
  const out: { value: string; node: Node }[] = [];
  v.items.forEach((item, i) => {
    if (!isScalar(item) || typeof item.value !== 'string') r.issue(item as Node, join(path, i), `${what} items must be text`);
    else out.push({ value: item.value, node: item });
  });
  return out.length === v.items.length ? out : null;
}

/**
 * Maps an offset inside a scalar's value to a file offset, so a CEL error points at the
 * character in the YAML file. Exact for plain, quoted (without escapes) and block scalars.
 */
export function offsetInScalar(r: YamlReader, node: Scalar, valueOffset: number): number {
  const start = node.range?.[0] ?? 0;
  const text = String(node.value);
  if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return start + 1 + valueOffset;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
    const before = text.slice(0, valueOffset);
    const lineInValue = before.split('\n').length - 1;
    const colInValue = valueOffset - (before.lastIndexOf('\n') + 1);
    // Content starts on the line after the `|` header; find that line's indentation.
    const headerEnd = r.source.indexOf('\n', start);
    let lineStart = headerEnd + 1;
    for (let i = 0; i < lineInValue && lineStart > 0; i++) lineStart = r.source.indexOf('\n', lineStart) + 1;
    return lineStart + firstIndent(r.source, headerEnd + 1) + colInValue;
  }
  return start + valueOffset;
}

function firstIndent(source: string, from: number): number {
  return /^ */.exec(source.slice(from))![0].length;
}
