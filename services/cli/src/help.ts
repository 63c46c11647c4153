import { optionsOf } from './args.ts';
import type { CommandSpec } from './registry.ts';

/** `tf <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.summary];
  if (spec.description) lines.push('', ...spec.description.trim().split('\n'));
  const opts = Object.entries(optionsOf(spec));
  const left = opts.map(([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  lines.push('', 'Options:', ...opts.map(([, o], i) => `  ${left[i]!.padEnd(width)}  ${o.description}`));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  lines.push('', 'Exit codes: 0 success, 1 user error (with a hint), 2 system fault. See docs/cli.md.');
  return lines.join('\n') + '\n';
}

/** `tf --help`, or the help of a command group (`tf policy`). */
export function overviewHelp(commands: readonly CommandSpec[], group?: string): string {
  const shown = group ? commands.filter((c) => c.name.startsWith(`${group} `)) : commands;
  const width = Math.max(...shown.map((c) => c.name.length));
  const lines = group
    ? [`Usage: tf ${group} <command> [options]`, '', 'Commands:']
    : [
        'tf (also tameflare): the TameFlare gateway between AI agents and the APIs they call.',
        '',
        'Usage: tf [--state-dir DIR] <command> [options]',
        '',
        'Commands:',
      ];
  for (const c of shown) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', `Run tf ${group ? `${group} ` : ''}<command> --help for a command's options. Exit codes: 0 ok, 1 user error, 2 system fault.`);
  return lines.join('\n') + '\n';
}
