import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, usageError } from '../errors.ts';
import type { ParsedArgs } from '../registry.ts';

/**
 * The one FILE argument of a command, read as UTF-8: a missing argument, an extra one, a path
 * that is not a readable file or a file over `maxBytes` is a usage error naming it.
 */
export function readInputFile(args: ParsedArgs, cwd: string, o: { command: string; what: string; maxBytes: number }): { file: string; path: string; source: string } {
  const [file, extra] = args.positionals;
  if (file === undefined) throw usageError(`tf ${o.command} needs the ${o.what} file`, `tf ${o.command} FILE`);
  if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, `tf ${o.command} takes one file; see tf ${o.command} --help`);
  const path = resolve(cwd, file);
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw usageError(`${file} is not a file`, `give the path of the ${o.what} file`);
    size = st.size;
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliError('TF_ERR_CLI_USAGE', `cannot read ${file}: ${missing ? 'no such file' : (cause as Error).message}`, { cause, hint: `give the path of the ${o.what} file` });
  }
  if (size > o.maxBytes) throw usageError(`${file} is ${size} bytes; a ${o.what} file is at most ${o.maxBytes}`);
  try {
    return { file, path, source: readFileSync(path, 'utf8') };
  } catch (cause) {
    throw new CliError('TF_ERR_CLI_USAGE', `cannot read ${file}: ${(cause as Error).message}`, { cause, hint: 'check the file permissions' });
  }
}
