import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { commands } from './commands/index.ts';
import { CLI_DOC, renderCliDoc } from './cli-doc.ts';

it('docs/cli.md carries the current --help of every command', () => {
  const committed = readFileSync(CLI_DOC, 'utf8');
  if (committed !== renderCliDoc(committed)) {
    throw new Error('docs/cli.md is stale: run `node services/cli/scripts/generate-cli-doc.ts` and commit docs/cli.md.');
  }
  for (const c of commands) expect(committed).toContain(`### tf ${c.name}\n`);
});
