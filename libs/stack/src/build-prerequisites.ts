import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { StackError, StackErrorCode } from './errors.ts';
import { logTail } from './processes.ts';
import { REPO_ROOT } from './services.ts';

/** The connectors' route tables, generated at build time (git-ignored, so missing in a fresh clone). */
const TABLES = join(REPO_ROOT, 'libs', 'connectors', 'src', 'generated', 'manifest.json');
const GENERATOR = join(REPO_ROOT, 'libs', 'connectors', 'scripts', 'generate.ts');

/**
 * Builds what the services need and a fresh clone lacks: the connectors' route tables (the
 * ingress classifies nothing without them). Runs `libs/connectors`'s build step once, with its
 * output in `logFile`; later starts find the tables and skip it.
 */
export async function ensureBuilt(o: { nodeBin: string; logFile: string; onBuild?: (what: string) => void }): Promise<boolean> {
  if (existsSync(TABLES)) return false;
  o.onBuild?.('building the connectors route tables (first start after install)');
  const fd = openSync(o.logFile, 'a', 0o600);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(o.nodeBin, [GENERATOR], { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0 || !existsSync(TABLES)) {
      throw new StackError(StackErrorCode.StartFailed, `building the connectors route tables failed: ${logTail(o.logFile, 600)}`, {
        details: { service: 'connectors build', logFile: o.logFile },
        hint: `run npx nx run @tameflare/connectors:build and see ${o.logFile}`,
      });
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
