/**
 * A top-level JSON object scanner. It reads the members of the outer object, keeps scalar
 * values, and skips nested objects and arrays by recording where they start and end, so
 * classifying a large request body (a prompt, a base64 file) costs a few `indexOf` jumps
 * instead of building the whole object. Nested values are parsed on demand with `JSON.parse`.
 *
 * Strictness: the outer structure is checked as JSON.parse would (a body the upstream would
 * reject is reported as invalid). Duplicate member names are reported; the last one wins,
 * as with JSON.parse.
 */
export type JsonScalar = string | number | boolean | null;

export interface JsonMember {
  /** The value, for numbers, booleans and null. */
  value: JsonScalar;
  /** The slice of the text that holds the value; strings, objects and arrays are decoded on demand. */
  start: number;
  end: number;
  /** 0 for number/boolean/null, else the opening character: `"` (34), `{` (123) or `[` (91). */
  nested: 0 | 34 | 123 | 91;
}

export interface JsonDocument {
  text: string;
  /** `object` documents have members; arrays and scalars are parsed whole on demand. */
  kind: 'object' | 'array' | 'scalar';
  members: Map<string, JsonMember>;
  duplicates: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJ = 123;
const CLOSE_OBJ = 125;
const OPEN_ARR = 91;
const CLOSE_ARR = 93;
const COMMA = 44;
const COLON = 58;

function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Index just past the closing quote of the string opening at `i`, or -1. */
function endOfString(t: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = t.indexOf('"', j);
    if (q < 0) return -1;
    let k = q - 1;
    while (t.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the object or array opening at `i`, with brackets matched, or -1. */
function endOfNested(t: string, i: number): number {
  const stack: number[] = [];
  const n = t.length;
  for (let j = i; j < n; j++) {
    const c = t.charCodeAt(j);
    if (c === QUOTE) {
      const e = endOfString(t, j);
      if (e < 0) return -1;
      j = e - 1;
    } else if (c === OPEN_OBJ) stack.push(CLOSE_OBJ);
    else if (c === OPEN_ARR) stack.push(CLOSE_ARR);
    else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return j + 1;
    }
  }
  return -1;
}

function decodeString(t: string, start: number, end: number): string | undefined {
  const inner = t.slice(start + 1, end - 1);
  if (inner.indexOf('\\') < 0) {
    for (let i = 0; i < inner.length; i++) if (inner.charCodeAt(i) < 32) return undefined;
    return inner;
  }
  try {
    return JSON.parse(t.slice(start, end)) as string;
  } catch {
    return undefined;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Scans `text`; returns null when it is not valid JSON. */
export function scanJson(text: string): JsonDocument | null {
  const members = new Map<string, JsonMember>();
  let i = skipWs(text, 0);
  const first = text.charCodeAt(i);
  if (first !== OPEN_OBJ) {
    try {
      JSON.parse(text);
    } catch {
      return null;
    }
    return { text, kind: first === OPEN_ARR ? 'array' : 'scalar', members, duplicates: false };
  }
  let duplicates = false;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJ) i++;
  else {
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return null;
      const keyEnd = endOfString(text, i);
      if (keyEnd < 0) return null;
      const key = decodeString(text, i, keyEnd);
      if (key === undefined) return null;
      i = skipWs(text, keyEnd);
      if (text.charCodeAt(i) !== COLON) return null;
      i = skipWs(text, i + 1);
      const c = text.charCodeAt(i);
      let member: JsonMember;
      if (c === QUOTE) {
        const e = endOfString(text, i);
        if (e < 0) return null;
        member = { value: null, start: i, end: e, nested: QUOTE };
        i = e;
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        const e = endOfNested(text, i);
        if (e < 0) return null;
        member = { value: null, start: i, end: e, nested: c };
        i = e;
      } else if (text.startsWith('true', i)) {
        member = { value: true, start: i, end: i + 4, nested: 0 };
        i += 4;
      } else if (text.startsWith('false', i)) {
        member = { value: false, start: i, end: i + 5, nested: 0 };
        i += 5;
      } else if (text.startsWith('null', i)) {
        member = { value: null, start: i, end: i + 4, nested: 0 };
        i += 4;
      } else {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) return null;
        member = { value: Number(m[0]), start: i, end: i + m[0].length, nested: 0 };
        i += m[0].length;
      }
      if (members.has(key)) {
        duplicates = true;
        members.delete(key);
      }
      members.set(key, member);
      i = skipWs(text, i);
      const sep = text.charCodeAt(i);
      if (sep === COMMA) {
        i = skipWs(text, i + 1);
        continue;
      }
      if (sep !== CLOSE_OBJ) return null;
      i++;
      break;
    }
  }
  if (skipWs(text, i) !== text.length) return null;
  return { text, kind: 'object', members, duplicates };
}

/**
 * The parsed value of a member: scalars as scanned, objects and arrays through JSON.parse.
 * Nested values were bracket-checked but not fully validated; one that JSON.parse rejects
 * makes the whole body invalid, reported as `undefined` here.
 */
export function memberValue(doc: JsonDocument, key: string): unknown {
  const m = doc.members.get(key);
  if (m === undefined) return undefined;
  if (m.nested === 0) return m.value;
  if (m.nested === QUOTE) return decodeString(doc.text, m.start, m.end);
  try {
    return JSON.parse(doc.text.slice(m.start, m.end));
  } catch {
    return undefined;
  }
}

/** True when an array holds objects or arrays (a bracket inside a string counts too: such a list is simply not recorded). */
function hasNested(t: string, from: number, to: number): boolean {
  const o = t.indexOf('{', from);
  if (o >= 0 && o < to) return true;
  const a = t.indexOf('[', from);
  return a >= 0 && a < to;
}

/** Scalars and short arrays of scalars among the members, without parsing nested objects. A string with a raw control character yields `undefined`. */
export function* scalarMembers(doc: JsonDocument): Generator<[string, unknown]> {
  for (const [key, m] of doc.members) {
    if (m.nested === 0) yield [key, m.value];
    // A long string is yielded undecoded: it only has to be long enough to be left out.
    else if (m.nested === QUOTE) yield [key, m.end - m.start > 258 ? doc.text.slice(m.start + 1, m.end - 1) : decodeString(doc.text, m.start, m.end)];
    else if (m.nested === OPEN_ARR && m.end - m.start <= 4096 && !hasNested(doc.text, m.start + 1, m.end)) {
      const v = memberValue(doc, key);
      if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) yield [key, v];
    }
  }
}
