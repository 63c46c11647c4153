import type { CommandContext } from './context.ts';

/** One option of a command (the shape `util.parseArgs` takes, plus help text). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in `--help`. */
  description: string;
  /** Placeholder in `--help` for a string option, e.g. `NAME`. */
  valueName?: string;
}

/** What a command receives: option values and positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * A `tf` command. Each lives in its own file under `src/commands/` and is listed once in
 * `src/commands/index.ts`; names may have several words (`policy check`), and `tf policy --help`
 * then lists the group.
 */
export interface CommandSpec {
  /** `run`, `kill`, or `policy check`. */
  name: string;
  /** One line for `tf --help`. */
  summary: string;
  /** `tf run [options] -- NAME CMD [ARGS...]` */
  usage: string;
  /** Paragraphs for `tf <command> --help`. */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Stop reading options at the first positional argument (or `--`): what follows belongs to another program. */
  passThrough?: boolean;
  /** Accepts `--json` (listed in help; refused otherwise). */
  json?: boolean;
  examples?: string[];
  /** Returns the exit code (default 0), or throws a CliError. */
  run(ctx: CommandContext, args: ParsedArgs): Promise<number | void>;
}

/** A typing helper for command files. */
export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  'state-dir': { type: 'string', valueName: 'DIR', description: 'the stack state directory (default $TF_STATE_DIR or ~/.tameflare)' },
};

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'machine-readable output on stdout' };

/** The command whose name matches the start of `argv` (the longest match), and the rest of `argv`. */
export function findCommand(commands: readonly CommandSpec[], argv: readonly string[]): { spec: CommandSpec; rest: string[] } | null {
  let best: CommandSpec | null = null;
  let bestWords = 0;
  for (const spec of commands) {
    const words = spec.name.split(' ');
    if (words.length > bestWords && words.every((w, i) => argv[i] === w)) {
      best = spec;
      bestWords = words.length;
    }
  }
  return best ? { spec: best, rest: argv.slice(bestWords) } : null;
}

/** Commands in the group `prefix` (`policy` → `policy check`, `policy apply`...). */
export function commandsInGroup(commands: readonly CommandSpec[], prefix: string): CommandSpec[] {
  return commands.filter((c) => c.name.startsWith(`${prefix} `));
}
