import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { flag, parseCommandArgs } from './args.ts';
import { commands } from './commands/index.ts';
import { createContext } from './context.ts';
import { describeError, ExitCode, usageError } from './errors.ts';
import { commandHelp, overviewHelp } from './help.ts';
import { createOutput } from './output.ts';
import { commandsInGroup, findCommand } from './registry.ts';

export interface MainIo {
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
  env?: Record<string, string | undefined>;
  cwd?: string;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs `tf` with `argv` (without node and the script) and resolves with the exit code. Global
 * options may come before the command: `tf --state-dir /tmp/x status`.
 */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout: Writable & { isTTY?: boolean } = io.stdout ?? process.stdout;
  const stderr: Writable & { isTTY?: boolean } = io.stderr ?? process.stderr;
  const args = [...argv];
  let stateDir: string | undefined;
  let json = false;
  // Global options before the command name.
  while (args.length && args[0]!.startsWith('-')) {
    const a = args.shift()!;
    if (a === '--state-dir' && args.length && !args[0]!.startsWith('-')) stateDir = args.shift();
    else if (a.startsWith('--state-dir=')) stateDir = a.slice('--state-dir='.length);
    else if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') args.unshift('help');
    else if (a === '--version' || a === '-V') {
      stdout.write(`tf ${version()}\n`);
      return ExitCode.Ok;
    } else {
      stderr.write(`tf: unknown option ${a}\n  hint: tf --help lists the commands and global options\n`);
      return ExitCode.User;
    }
  }
  if (args.length === 0 || args[0] === 'help') {
    const topic = args.slice(1);
    const found = topic.length ? findCommand(commands, topic) : null;
    if (found) stdout.write(commandHelp(found.spec));
    else if (topic.length && commandsInGroup(commands, topic[0]!).length) stdout.write(overviewHelp(commands, topic[0]));
    else if (topic.length) {
      stderr.write(`tf: unknown command "${topic.join(' ')}"\n  hint: tf --help lists the commands\n`);
      return ExitCode.User;
    } else stdout.write(overviewHelp(commands));
    return args.length === 0 ? ExitCode.User : ExitCode.Ok;
  }

  const found = findCommand(commands, args);
  if (!found) {
    const group = commandsInGroup(commands, args[0]!);
    if (group.length) {
      const wantsHelp = args.includes('--help') || args.includes('-h');
      (wantsHelp ? stdout : stderr).write(overviewHelp(commands, args[0]));
      return wantsHelp ? ExitCode.Ok : ExitCode.User;
    }
    stderr.write(`tf: unknown command "${args[0]}"\n  hint: tf --help lists the commands\n`);
    return ExitCode.User;
  }
  const { spec, rest } = found;
  let out = createOutput({ json, stdout, stderr, env });
  const ctxBase = { env, cwd: io.cwd ?? process.cwd() };
  let ctx: ReturnType<typeof createContext> | undefined;
  try {
    const parsed = parseCommandArgs(spec, rest);
    if (flag(parsed, 'help')) {
      stdout.write(commandHelp(spec));
      return ExitCode.Ok;
    }
    json = json || flag(parsed, 'json');
    if (json && !spec.json) throw usageError(`tf ${spec.name} has no --json output`, `see tf ${spec.name} --help`);
    out = createOutput({ json, stdout, stderr, env });
    const dir = typeof parsed.values['state-dir'] === 'string' ? (parsed.values['state-dir'] as string) : stateDir;
    ctx = createContext({ out, ...ctxBase, stateDir: dir, json });
    const code = await spec.run(ctx, parsed);
    return code ?? ExitCode.Ok;
  } catch (err) {
    const d = describeError(err);
    out.endProgress();
    if (json) stderr.write(JSON.stringify({ error: { code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}) } }) + '\n');
    else stderr.write(`tf: ${d.message}\n${d.hint ? `  hint: ${d.hint}\n` : ''}`);
    return d.exitCode;
  } finally {
    await ctx?.cleanup();
  }
}
