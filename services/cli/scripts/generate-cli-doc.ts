/**
 * Regenerates the command reference in docs/cli.md from the CLI's registry (every command's
 * --help). Run it after adding or changing a command: `node services/cli/scripts/generate-cli-doc.ts`.
 * A unit test fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { CLI_DOC, renderCliDoc } from '../src/cli-doc.ts';

writeFileSync(CLI_DOC, renderCliDoc());
process.stdout.write(`wrote ${CLI_DOC}\n`);
