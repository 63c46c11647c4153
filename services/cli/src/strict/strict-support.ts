import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CliError } from '../errors.ts';

/** What strict mode runs: util-linux `unshare` and iproute2 `ip`. */
export interface StrictTools {
  unshare: string;
  ip: string;
}

function which(name: string, path: string | undefined): string | undefined {
  for (const dir of [...(path ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function readNumber(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * Checks that `tf run --strict` can work here, before anything is started: Linux, `unshare` and
 * `ip` installed, and either root or unprivileged user namespaces (the agent always runs in a
 * user namespace of its own, so it holds no capability over the host's network).
 *
 * @throws CliError `TF_ERR_CLI_STRICT_UNSUPPORTED` (exit 1) naming what is missing.
 */
export function checkStrictSupport(env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform, uid = process.getuid?.() ?? -1): StrictTools {
  const refuse = (why: string, hint: string) => new CliError('TF_ERR_CLI_STRICT_UNSUPPORTED', `tf run --strict ${why}`, { hint });
  if (platform !== 'linux') throw refuse(`needs Linux network namespaces (this is ${platform})`, 'run without --strict: clients that honour the proxy variables are governed anyway');
  const unshare = which('unshare', env.PATH);
  if (!unshare) throw refuse('needs unshare (util-linux)', 'install it: sudo apt-get install util-linux');
  const ip = which('ip', env.PATH);
  if (!ip) throw refuse('needs ip (iproute2)', 'install it: sudo apt-get install iproute2');
  if (uid !== 0) {
    const clone = readNumber('/proc/sys/kernel/unprivileged_userns_clone');
    const max = readNumber('/proc/sys/user/max_user_namespaces');
    if (clone === 0 || max === 0) {
      throw refuse('needs root or unprivileged user namespaces, and this system allows neither', 'run tf as root (sudo), or enable them: sudo sysctl kernel.unprivileged_userns_clone=1');
    }
  }
  return { unshare, ip };
}
