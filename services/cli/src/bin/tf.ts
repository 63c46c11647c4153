#!/usr/bin/env node
/**
 * `tf` (also `tameflare`): the TameFlare command line. Runs on Node 24 (type stripping); the
 * repository's `npm run demo` and `npx tf` use the Node 24 from node_modules/.bin.
 */
import { enableCompileCache } from 'node:module';

// Every tf invocation loads the same modules: V8's on-disk code cache roughly halves start-up.
enableCompileCache();
const { main } = await import('../main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; a handle some library left open must not keep tf alive.
setTimeout(() => process.exit(code), 2000).unref();
