import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.ts';

/**
 * Finds the program `tf run` would start, as a shell does: a name with a slash is a path,
 * anything else is looked up on PATH. Checked before anything is registered, so a typo starts
 * nothing.
 *
 * @throws CliError with exit code 127 (not found) or 126 (found but not executable).
 */
export function resolveCommand(command: string, env: Record<string, string | undefined>, cwd: string): string {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(isAbsolute(dir) ? dir : resolve(cwd, dir), command));
  let notExecutable: string | undefined;
  for (const file of candidates) {
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      continue;
    }
    if (!isFile) {
      notExecutable ??= file;
      continue;
    }
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      notExecutable ??= file;
    }
  }
  if (notExecutable) {
    throw new CliError('TF_ERR_CLI_NOT_EXECUTABLE', `${command}: permission denied (${notExecutable} is not an executable file)`, { exitCode: ExitCode.NotExecutable, hint: `chmod +x ${notExecutable}` });
  }
  throw new CliError('TF_ERR_CLI_COMMAND_NOT_FOUND', `${command}: command not found`, {
    exitCode: ExitCode.NotFound,
    hint: command.includes('/') ? 'check the path' : 'check the spelling, or that its directory is on PATH',
  });
}
