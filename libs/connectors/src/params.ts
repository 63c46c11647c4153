import type { ParamValue } from '@tameflare/contracts';

/** Most parameters recorded on one action; the rest are dropped with the note `params_capped`. */
export const MAX_PARAMS = 64;
/** Longest string kept as a parameter; longer values (file contents, prompts) are left out with `long_param_omitted`. */
export const MAX_PARAM_STRING = 256;
const MAX_ARRAY = 100;
const MAX_NAME = 128;

/** Parameter names that carry credentials. Their value is never recorded. */
const SENSITIVE = /(^|[._-])(token|secret|password|passwd|passphrase|api_?key|apikey|authorization|credentials?|private_?key|client_secret|access_token|refresh_token|session_key)$|^(key|sig|signature|auth)$/i;

export type Scalar = string | number | boolean | null;

/**
 * Collects an action's parameters under the limits of the `Action` contract. Earlier sources
 * win (path parameters are added before query and body fields), a value that differs from one
 * already kept is recorded as a `param_conflict` note, and credential-bearing names are redacted.
 */
export interface ParamSink {
  readonly params: Record<string, ParamValue>;
  readonly notes: string[];
  add(name: string, value: unknown): void;
  has(name: string): boolean;
  set(name: string, value: ParamValue): void;
}

export function note(notes: string[], n: string): void {
  if (!notes.includes(n) && notes.length < 20) notes.push(n);
}

export function createParamSink(notes: string[]): ParamSink {
  const params: Record<string, ParamValue> = Object.create(null);
  let count = 0;
  const sink: ParamSink = {
    params,
    notes,
    has: (name) => name in params,
    set(name, value) {
      if (!(name in params)) count++;
      params[name] = value;
    },
    add(name, value) {
      if (name.length === 0 || name.length > MAX_NAME) return;
      const v = toParamValue(value, notes);
      if (v === undefined) return;
      if (name in params) {
        // Two different values for one name (query and body, or two spellings of one key): keep both, so a
        // policy comparing the parameter to a single value cannot be satisfied by the harmless one alone.
        const prev = params[name]!;
        if (!sameValue(prev, v)) {
          note(notes, 'param_conflict');
          if (prev !== '[redacted]') params[name] = [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])].filter((x) => x !== null).slice(0, MAX_ARRAY) as (string | number | boolean)[];
        }
        return;
      }
      if (count >= MAX_PARAMS) {
        note(notes, 'params_capped');
        return;
      }
      if (SENSITIVE.test(name)) {
        params[name] = '[redacted]';
        note(notes, 'sensitive_param_redacted');
      } else params[name] = v;
      count++;
    },
  };
  return sink;
}

function toParamValue(value: unknown, notes: string[]): ParamValue | undefined {
  switch (typeof value) {
    case 'string':
      if (value.length > MAX_PARAM_STRING) {
        note(notes, 'long_param_omitted');
        return undefined;
      }
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (!Array.isArray(value) || value.length > MAX_ARRAY) return undefined;
      const out: (string | number | boolean)[] = [];
      for (const item of value) {
        if (typeof item === 'string') {
          if (item.length > MAX_PARAM_STRING) return undefined;
          out.push(item);
        } else if (typeof item === 'number' || typeof item === 'boolean') out.push(item);
        else return undefined;
      }
      return out;
    }
    default:
      return undefined;
  }
}

function sameValue(a: ParamValue, b: ParamValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Adds the scalar leaves of a parsed JSON object as `a.b.c` parameters, down to `depth` levels. */
export function addFlattened(sink: ParamSink, value: unknown, prefix: string, depth: number): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (prefix) sink.add(prefix, value);
    return;
  }
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const name = prefix ? `${prefix}.${key}` : key;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      if (depth > 1) addFlattened(sink, child, name, depth - 1);
    } else sink.add(name, child);
  }
}
