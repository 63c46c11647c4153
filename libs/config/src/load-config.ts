import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Kind, OptionalKind, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { keywords } from './schema.ts';

export interface LoadConfigOptions {
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** YAML or JSON file read before the environment (default: `<prefix>CONFIG_FILE` from `env`). */
  file?: string;
  /** Prefix of every derived variable name (default `TF_`). */
  prefix?: string;
}

interface Leaf {
  path: string[];
  variable: string;
  schema: TSchema;
  secret: boolean;
}

/**
 * Loads typed configuration: schema defaults, then the optional file, then environment
 * variables. A property at path `nats.url` is set by `TF_NATS_URL` (camelCase becomes
 * UPPER_SNAKE; a schema's `env` keyword overrides the name). Strings from the environment are
 * coerced to the schema's type: numbers, booleans (`true/false/1/0/yes/no/on/off`), durations
 * (`500ms`, `5m`) and comma-separated lists.
 *
 * @throws ConfigError (`TF_ERR_CONFIG`) listing every bad or missing value by variable name.
 */
export function loadConfig<S extends TObject>(schema: S, options: LoadConfigOptions = {}): Static<S> {
  const env = options.env ?? process.env;
  const prefix = options.prefix ?? 'TF_';
  const fileVariable = `${prefix}CONFIG_FILE`;
  const leaves: Leaf[] = [];
  collectLeaves(schema, [], prefix, false, leaves);
  const problems: ConfigProblem[] = [];

  const filePath = options.file ?? nonEmpty(env[fileVariable]);
  let fileValues: Record<string, unknown> = {};
  if (filePath) {
    try {
      const text = readFileSync(filePath, 'utf8');
      const parsed: unknown = extname(filePath) === '.json' ? JSON.parse(text) : parseYaml(text);
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new Error('the file must hold a mapping of settings');
      }
      fileValues = (parsed ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([{ variable: fileVariable, path: '', message: `cannot load ${filePath}: ${(err as Error).message.split('\n')[0]}` }], { cause: err });
    }
    for (const unknownKey of unknownKeys(schema, fileValues, [])) {
      problems.push({ variable: fileVariable, path: unknownKey, message: `unknown setting "${unknownKey}" in ${filePath}` });
    }
  }

  const value: Record<string, unknown> = {};
  for (const leaf of leaves) {
    const fromEnv = nonEmpty(env[leaf.variable]);
    const raw = fromEnv ?? getPath(fileValues, leaf.path);
    if (raw === undefined) continue;
    const coerced = coerce(leaf.schema, raw);
    if (coerced.ok) setPath(value, leaf.path, coerced.value);
    else problems.push({ variable: leaf.variable, path: leaf.path.join('.'), message: `expected ${expected(leaf.schema)}, got ${show(leaf, raw)}` });
  }

  // TypeBox fills defaults only inside objects that exist, so lay out every nested object first.
  for (const leaf of leaves) {
    let cur = value;
    for (const p of leaf.path.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
  }
  const withDefaults = Value.Default(schema, value) as Record<string, unknown>;
  const reported = new Set(problems.map((p) => p.variable));
  for (const e of Value.Errors(schema, withDefaults)) {
    const path = e.path.split('/').filter(Boolean);
    // An error inside a list (`/approval/slackVoters/0`) belongs to the list's own variable.
    const leaf = leaves.find((l) => l.path.length <= path.length && l.path.every((p, i) => p === path[i]));
    if (!leaf) {
      if (e.type === ValueErrorType.ObjectAdditionalProperties) continue;
      problems.push({ variable: prefix + path.map(snake).join('_'), path: path.join('.'), message: e.message });
      continue;
    }
    if (reported.has(leaf.variable)) continue;
    reported.add(leaf.variable);
    const raw = getPath(withDefaults, leaf.path);
    problems.push({
      variable: leaf.variable,
      path: leaf.path.join('.'),
      message: raw === undefined ? `is required (${expected(leaf.schema)})` : `expected ${expected(leaf.schema)}, got ${show(leaf, raw)}`,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return withDefaults as Static<S>;
}

/** The environment variable that sets `path` (e.g. `['nats', 'url']` → `TF_NATS_URL`). */
export function variableName(path: string[], prefix = 'TF_'): string {
  return prefix + path.map(snake).join('_');
}

/** Every variable a schema reads, with what it expects: for `--help` texts and docs. */
export function describeConfig(schema: TObject, prefix = 'TF_'): { variable: string; path: string; expected: string; required: boolean; secret: boolean }[] {
  const leaves: Leaf[] = [];
  collectLeaves(schema, [], prefix, false, leaves);
  return leaves.map((l) => ({
    variable: l.variable,
    path: l.path.join('.'),
    expected: expected(l.schema),
    required: !(OptionalKind in l.schema) && keywords(l.schema).default === undefined,
    secret: l.secret,
  }));
}

function collectLeaves(schema: TSchema, path: string[], prefix: string, parentSecret: boolean, out: Leaf[]): void {
  const k = keywords(schema);
  const secret = parentSecret || k.secret === true;
  if (schema[Kind] === 'Object' && path.length === 0) {
    for (const [key, child] of Object.entries((schema as TObject).properties)) collectLeaves(child, [key], prefix, secret, out);
    return;
  }
  if (schema[Kind] === 'Object') {
    for (const [key, child] of Object.entries((schema as TObject).properties)) collectLeaves(child, [...path, key], prefix, secret, out);
    return;
  }
  out.push({ path, variable: k.env ?? variableName(path, prefix), schema, secret: secret || looksSecretName(path[path.length - 1]!) });
}

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], v: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
  cur[path[path.length - 1]!] = v;
}

function unknownKeys(schema: TSchema, values: unknown, path: string[]): string[] {
  if (schema[Kind] !== 'Object' || values === null || typeof values !== 'object' || Array.isArray(values)) return [];
  const props = (schema as TObject).properties;
  const out: string[] = [];
  for (const [key, v] of Object.entries(values)) {
    const child = props[key];
    if (!child) out.push([...path, key].join('.'));
    else out.push(...unknownKeys(child, v, [...path, key]));
  }
  return out;
}

type Coerced = { ok: true; value: unknown } | { ok: false };

function coerce(schema: TSchema, raw: unknown): Coerced {
  const kind = schema[Kind];
  if (typeof raw !== 'string') return { ok: true, value: raw };
  const s = raw.trim();
  if (kind === 'Number' || kind === 'Integer') {
    if (keywords(schema).tfDuration) {
      const ms = parseDuration(s);
      return ms === undefined ? { ok: false } : { ok: true, value: ms };
    }
    if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) return { ok: false };
    return { ok: true, value: Number(s) };
  }
  if (kind === 'Boolean') {
    const v = s.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return { ok: true, value: true };
    if (['false', '0', 'no', 'off'].includes(v)) return { ok: true, value: false };
    return { ok: false };
  }
  if (kind === 'Array') {
    const item = (schema as unknown as { items: TSchema }).items;
    const parts = s === '' ? [] : s.split(',').map((p) => p.trim()).filter((p) => p !== '');
    const values: unknown[] = [];
    for (const p of parts) {
      const c = coerce(item, p);
      if (!c.ok) return c;
      values.push(c.value);
    }
    return { ok: true, value: values };
  }
  if (kind === 'Union') {
    for (const member of (schema as unknown as { anyOf: TSchema[] }).anyOf) {
      if (member[Kind] === 'Literal' && String((member as unknown as { const: unknown }).const) === s) {
        return { ok: true, value: (member as unknown as { const: unknown }).const };
      }
    }
    return { ok: true, value: raw };
  }
  return { ok: true, value: raw };
}

function expected(schema: TSchema): string {
  const k = keywords(schema) as Record<string, unknown> & { description?: string };
  const kind = schema[Kind];
  const range = (noun: string) => {
    const min = k.minimum as number | undefined;
    const max = k.maximum as number | undefined;
    if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
    if (min !== undefined) return `${noun} ≥ ${min}`;
    if (max !== undefined) return `${noun} ≤ ${max}`;
    return noun;
  };
  if (k.tfDuration) return 'a duration such as 500ms, 30s or 5m';
  if (k.description) return k.description;
  switch (kind) {
    case 'Integer':
      return range('an integer');
    case 'Number':
      return range('a number');
    case 'Boolean':
      return 'true or false';
    case 'Array':
      return `a comma-separated list of ${expected((schema as unknown as { items: TSchema }).items).replace(/^an? /, '')}s`;
    case 'Union': {
      const literals = (schema as unknown as { anyOf: TSchema[] }).anyOf.filter((m) => m[Kind] === 'Literal');
      if (literals.length) return `one of ${literals.map((m) => (m as unknown as { const: unknown }).const).join(', ')}`;
      return 'a valid value';
    }
    case 'String':
      if (k.format === 'uri') return 'a URL';
      if (k.pattern) return `text matching ${String(k.pattern)}`;
      if (typeof k.minLength === 'number' && k.minLength > 0) return `text of at least ${k.minLength} characters`;
      return 'text';
    default:
      return 'a valid value';
  }
}

const SECRET_NAME = /pass(word)?|secret|token|key|credential|private|auth/i;

function looksSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Echoes a bad value only when it cannot be a secret. */
function show(leaf: Leaf, raw: unknown): string {
  if (leaf.secret) return 'a value (hidden: secret)';
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (text === undefined) return String(raw);
  const looksSecret = /:\/\/[^/\s]*:[^@/\s]*@/.test(text) || /^[A-Za-z0-9+/_=.-]{24,}$/.test(text) || SECRET_NAME.test(text);
  if (looksSecret) return 'a value (hidden: looks like a secret)';
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
