import { parseArgs } from 'node:util';
import { usageError } from './errors.ts';
import { GLOBAL_OPTIONS, JSON_OPTION, type CommandSpec, type OptionSpec, type ParsedArgs } from './registry.ts';

/** Every option a command accepts: its own, the global ones and `--json` where it offers it. */
export function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...(spec.options ?? {}), ...(spec.json ? { json: JSON_OPTION } : {}), ...GLOBAL_OPTIONS };
}

/**
 * Splits `argv` where the command's own options end: at `--`, or (for pass-through commands) at
 * the first positional argument, so `tf run my-agent node app.js --port 1` leaves `--port 1`
 * to the agent.
 */
function splitPassThrough(argv: readonly string[], options: Record<string, OptionSpec>): { own: string[]; rest: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { own: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { own: argv.slice(0, i), rest: argv.slice(i) };
    if (takesValue.has(a)) i++;
  }
  return { own: [...argv], rest: [] };
}

/** Parses a command's arguments; a bad option is a usage error naming it and the help to read. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = optionsOf(spec);
  const { own, rest } = spec.passThrough ? splitPassThrough(argv, options) : { own: [...argv], rest: [] as string[] };
  try {
    const parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: [...parsed.positionals, ...rest] };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const help = `see tf ${spec.name} --help`;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = /'([^']+)'/.exec(e.message)?.[1] ?? 'option';
      throw usageError(`unknown option ${name} for tf ${spec.name}`, help);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw usageError(e.message.replace(/^Option '([^']+)'/, 'option $1').split('.')[0]!.replace(/ argument missing$/, ' needs a value'), help);
    }
    throw usageError(e.message, help);
  }
}

/** A string option, or undefined. */
export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean option (false when absent). */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A non-negative integer option, or the default; anything else is a usage error. */
export function intOpt(args: ParsedArgs, name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  const v = stringOpt(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < (range.min ?? 0) || n > (range.max ?? Number.MAX_SAFE_INTEGER)) {
    throw usageError(`--${name} must be a whole number${range.min !== undefined ? ` from ${range.min}` : ''}${range.max !== undefined ? ` to ${range.max}` : ''} (got ${JSON.stringify(v)})`);
  }
  return n;
}
