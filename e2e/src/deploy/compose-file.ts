/**
 * docker-compose.yml as Compose reads it: YAML with merge keys, then `${VAR}` interpolation
 * from an environment, following the Compose specification's rules (`${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$` for a literal `$`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@tameflare/stack';

export const composeFilePath = join(REPO_ROOT, 'docker-compose.yml');

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  networks?: string[] | Record<string, unknown>;
  ports?: (string | number)[];
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  privileged?: boolean;
  profiles?: string[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean } | null>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
  [key: string]: unknown;
}

/** Raised where Compose itself would refuse to start: a required variable is unset. */
export class InterpolationError extends Error {}

const PATTERN = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(PATTERN, (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const unsetOrEmpty = value === undefined || value === '';
    switch (op) {
      case ':-':
        return unsetOrEmpty ? interpolate(arg ?? '', env) : value!;
      case '-':
        return value === undefined ? interpolate(arg ?? '', env) : value;
      case ':?':
        if (unsetOrEmpty) throw new InterpolationError(`${name}: ${arg || 'required'}`);
        return value!;
      case '?':
        if (value === undefined) throw new InterpolationError(`${name}: ${arg || 'required'}`);
        return value;
      default:
        return value ?? '';
    }
  });
}

function walk(node: unknown, fn: (s: string) => string): unknown {
  if (typeof node === 'string') return fn(node);
  if (Array.isArray(node)) return node.map((n) => walk(n, fn));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, fn)]));
  return node;
}

/** The parsed file, merge keys resolved, variables not yet interpolated. */
export function readComposeRaw(path = composeFilePath): ComposeFile {
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

/** The file as Compose would run it with `env` (what `docker compose config` prints). */
export function readCompose(env: Record<string, string | undefined>, path = composeFilePath): ComposeFile {
  return walk(readComposeRaw(path), (s) => interpolate(s, env)) as ComposeFile;
}

/** Every `${NAME...}` the file refers to. */
export function referencedVariables(path = composeFilePath): Set<string> {
  const out = new Set<string>();
  for (const m of readFileSync(path, 'utf8').matchAll(PATTERN)) {
    const name = m[1] ?? m[4];
    if (name) out.add(name);
  }
  return out;
}

/** A service's environment as strings (Compose passes every value as text). */
export function environmentOf(s: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.environment ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

export function networksOf(s: ComposeService): string[] {
  return Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});
}
