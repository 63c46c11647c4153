import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { StackError, StackErrorCode } from './errors.ts';
import type { StatePaths } from './state-dir.ts';

/**
 * One `tf up`/`tf down` at a time per state directory: `stack.lock` holds the owner's pid; a lock
 * whose owner is gone is taken over.
 */
export function acquireLock(paths: StatePaths): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(paths.lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(paths.lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(existsSync(paths.lockFile) ? readFileSync(paths.lockFile, 'utf8').trim() : '0');
      let alive = false;
      try {
        if (owner > 0) process.kill(owner, 0);
        alive = owner > 0;
      } catch (e) {
        // EPERM: the owner exists, as another user.
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive && owner !== process.pid) {
        throw new StackError(StackErrorCode.Locked, `another tf up or tf down (pid ${owner}) is working on ${paths.root}`, { hint: 'wait for it to finish' });
      }
      rmSync(paths.lockFile, { force: true });
    }
  }
  throw new StackError(StackErrorCode.Locked, `cannot lock ${paths.lockFile}`, { hint: `remove ${paths.lockFile} if no tf up or tf down is running` });
}

