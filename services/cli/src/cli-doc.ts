import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from './commands/index.ts';
import { commandHelp, overviewHelp } from './help.ts';

/** docs/cli.md; its command reference is generated from the registry between these markers. */
export const CLI_DOC = join(import.meta.dirname, '..', '..', '..', 'docs', 'cli.md');
export const BEGIN = '<!-- BEGIN GENERATED: the --help of every command (node services/cli/scripts/generate-cli-doc.ts) -->';
export const END = '<!-- END GENERATED -->';

/** The reference: `tf --help`, then each command's `--help`, as the CLI prints them. */
export function renderCommandReference(): string {
  const parts = ['```text', '$ tf --help', overviewHelp(commands).trimEnd(), '```', ''];
  for (const c of commands) {
    parts.push(`### tf ${c.name}`, '', '```text', commandHelp(c).trimEnd(), '```', '');
  }
  return parts.join('\n');
}

/** docs/cli.md with the generated section replaced by the current reference. */
export function renderCliDoc(current = readFileSync(CLI_DOC, 'utf8')): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CLI_DOC} has no generated section (${BEGIN} ... ${END})`);
  return `${current.slice(0, start + BEGIN.length)}\n\n${renderCommandReference()}\n${current.slice(end)}`;
}
