/**
 * What each service's main.ts reads from its environment, taken from the schema it really passes
 * to `runService` (see config-introspection/), and the helpers the configuration tests use:
 * running a main.ts with a given environment, and a malformed value for a setting.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, SERVICE_NAMES, serviceMain, type ServiceName } from '@tameflare/stack';
import type { DescribedService, DescribedVariable } from './config-introspection/service-kit-describe.ts';

export type { DescribedService, DescribedVariable };
export { SERVICE_NAMES, type ServiceName };

const register = join(import.meta.dirname, 'config-introspection', 'register.ts');

export interface MainResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs `node [nodeArgs] services/<service>/src/main.ts` with exactly `env` (plus PATH) and waits for it to exit. */
export function runMain(service: ServiceName, env: Record<string, string>, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<MainResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), serviceMain(service)],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, cwd: REPO_ROOT, timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Every setting `service` reads, from its own main.ts. */
export async function describeService(service: ServiceName): Promise<DescribedService> {
  const r = await runMain(service, {}, { nodeArgs: ['--import', register] });
  if (r.code !== 0) throw new Error(`describing ${service} failed (${r.code}): ${r.output.slice(-2000)}`);
  return JSON.parse(r.output.trim().split('\n').pop()!) as DescribedService;
}

/** Every service's settings, two processes at a time. */
export async function describeAllServices(): Promise<Record<ServiceName, DescribedService>> {
  const out = {} as Record<ServiceName, DescribedService>;
  const queue = [...SERVICE_NAMES];
  await Promise.all(
    [0, 1].map(async () => {
      for (let s = queue.shift(); s; s = queue.shift()) out[s] = await describeService(s);
    }),
  );
  return out;
}

const BAD_TEXT = 'not valid!';

/**
 * A value the setting's schema refuses, as it would be written in the environment, or
 * undefined when every non-empty text is acceptable (a free-form host name or path).
 */
export function malformedValue(schema: Record<string, unknown>): string | undefined {
  if (schema.tfDuration) return 'forever';
  if (Array.isArray(schema.anyOf)) return 'no-such-value';
  switch (schema.type) {
    case 'integer':
    case 'number':
      return 'not-a-number';
    case 'boolean':
      return 'maybe';
    case 'array':
      return malformedValue(schema.items as Record<string, unknown>);
    case 'string': {
      if (typeof schema.pattern === 'string') return new RegExp(schema.pattern).test(BAD_TEXT) ? undefined : BAD_TEXT;
      if (typeof schema.minLength === 'number' && schema.minLength > 1) return 'Z9Z9Z9Z9Z9Z9'.slice(0, schema.minLength - 1);
      return undefined;
    }
    default:
      return undefined;
  }
}

/** True when the setting's value must never be echoed (passwords, keys, URLs with credentials). */
export function isSecret(v: DescribedVariable): boolean {
  const items = v.schema.items as Record<string, unknown> | undefined;
  return v.schema.secret === true || items?.secret === true;
}
