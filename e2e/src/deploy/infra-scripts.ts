/**
 * The deployment scripts in infra/compose, run as the operator runs them (separate processes:
 * they are their own project, not a library the tests import).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@tameflare/stack';
import { runMainScript } from './run-script.ts';

export const composeScripts = {
  setup: join(REPO_ROOT, 'infra', 'compose', 'setup.ts'),
  init: join(REPO_ROOT, 'infra', 'compose', 'init.ts'),
  natsConfig: join(REPO_ROOT, 'infra', 'compose', 'nats-config.ts'),
};

/** `KEY=value` lines of an env file. */
export function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Runs `node infra/compose/setup.ts --dir <dir>` and returns what it wrote into `<dir>/.env`. */
export async function runComposeSetup(dir: string): Promise<{ env: Record<string, string>; output: string }> {
  const r = await runMainScript(composeScripts.setup, ['--dir', dir], {});
  if (r.code !== 0) throw new Error(`setup.ts failed (${r.code}): ${r.output}`);
  return { env: readEnvFile(join(dir, '.env')), output: r.output };
}

/** The settings `infra/compose/init.ts` reads (`init.ts describe`). */
export async function initSettings(): Promise<{ variable: string; required: boolean }[]> {
  const r = await runMainScript(composeScripts.init, ['describe'], {});
  if (r.code !== 0) throw new Error(`init.ts describe failed (${r.code}): ${r.output}`);
  return JSON.parse(r.output.trim().split('\n').pop()!) as { variable: string; required: boolean }[];
}
