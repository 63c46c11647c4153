import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { isTameFlareError } from '@tameflare/contracts';
import { MAX_SECRET_BYTES, validateSecretValue } from '@tameflare/vault-crypto';
import { flag, stringOpt } from '../args.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import type { OptionSpec, ParsedArgs } from '../registry.ts';

/** Where a secret value may come from: never a command-line argument. */
export const SECRET_SOURCE_OPTIONS: Record<string, OptionSpec> = {
  'from-env': { type: 'string', valueName: 'VAR', description: 'read the value from environment variable VAR' },
  'from-file': { type: 'string', valueName: 'PATH', description: 'read the value from a file (one trailing newline is dropped)' },
  stdin: { type: 'boolean', description: 'read the value from standard input (a pipe; one trailing newline is dropped)' },
};

export interface SecretValue {
  /** The bytes; the caller zeroes them once sealed. */
  value: Buffer;
  source: 'env' | 'file' | 'stdin';
  /** For messages: `environment variable GITHUB_TOKEN`, `file ./key.txt`, `standard input`. */
  origin: string;
}

const HOW = 'tf secret set NAME --from-env VAR, --from-file PATH, or --stdin (printf %s "$KEY" | tf secret set NAME --stdin)';

/** Drops one trailing line end: files and `echo` add one; a value never contains one. */
function chomp(b: Buffer): Buffer {
  if (b.length && b[b.length - 1] === 0x0a) b = b.subarray(0, b.length - (b.length > 1 && b[b.length - 2] === 0x0d ? 2 : 1));
  return b;
}

/** Reads a stream keeping at most `keep` bytes (the rest is counted, not held). */
async function readAll(stream: Readable, keep: number): Promise<{ bytes: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let kept = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    size += b.length;
    if (kept < keep) {
      const part = Buffer.from(b.subarray(0, keep - kept));
      chunks.push(part);
      kept += part.length;
    }
  }
  const bytes = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return { bytes, size };
}

/**
 * Reads a secret value from exactly one of `--from-env`, `--from-file` or `--stdin`, and checks
 * it as the vault will (8 bytes to 16 KiB of UTF-8, no control characters). A value given as a
 * positional argument is refused without being repeated: it would sit in the shell history and
 * in `ps`. Messages never contain the value.
 */
export async function readSecretValue(
  args: ParsedArgs,
  io: { env: Record<string, string | undefined>; cwd: string; stdin: Readable & { isTTY?: boolean } },
): Promise<SecretValue> {
  if (args.positionals.length > 1) {
    throw usageError('a secret value is never taken from the command line: it would stay in the shell history and be visible in ps', HOW);
  }
  const envVar = stringOpt(args, 'from-env');
  const file = stringOpt(args, 'from-file');
  const stdin = flag(args, 'stdin');
  const given = [envVar !== undefined, file !== undefined, stdin].filter(Boolean).length;
  if (given !== 1) throw usageError(given ? 'give exactly one source for the value' : 'no source for the secret value', HOW);

  let secret: SecretValue;
  if (envVar !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envVar)) throw usageError('--from-env takes the NAME of an environment variable (letters, digits and _), not a value', HOW);
    const v = io.env[envVar];
    // A name is repeated only when it looks like one: an unset "name" may be a pasted value.
    const shown = /^[A-Z_][A-Z0-9_]{0,63}$/.test(envVar) ? envVar : null;
    if (v === undefined || v === '') {
      throw usageError(
        shown ? `environment variable ${shown} is ${v === undefined ? 'not set' : 'empty'}` : `the environment variable named by --from-env is ${v === undefined ? 'not set' : 'empty'} (the name is not repeated in case it is a value)`,
        `export ${shown ?? 'VAR'}=... first (read -rs ${shown ?? 'VAR'} && export ${shown ?? 'VAR'} keeps it off the screen)`,
      );
    }
    secret = { value: Buffer.from(v, 'utf8'), source: 'env', origin: `environment variable ${shown ?? '(from --from-env)'}` };
  } else if (file !== undefined) {
    const path = resolve(io.cwd, file);
    let st;
    try {
      st = statSync(path);
    } catch (cause) {
      throw new CliError('TF_ERR_CLI_USAGE', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message}`, { cause, hint: 'give the path of a file that holds only the value' });
    }
    if (!st.isFile()) throw usageError(`${file} is not a regular file`, 'give the path of a file that holds only the value');
    if (st.size > MAX_SECRET_BYTES + 2) throw usageError(`${file} is ${st.size} bytes; a secret is at most ${MAX_SECRET_BYTES}`, 'give the path of a file that holds only the value');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (cause) {
      throw new CliError('TF_ERR_CLI_USAGE', `cannot read ${file}: ${(cause as Error).message}`, { cause, hint: 'check the file permissions' });
    }
    secret = { value: chomp(bytes), source: 'file', origin: `file ${file}` };
  } else {
    if (io.stdin.isTTY) throw usageError('--stdin reads a pipe, and standard input is a terminal', 'printf %s "$KEY" | tf secret set NAME --stdin, or read -rs KEY && export KEY && tf secret set NAME --from-env KEY');
    // Two bytes over the limit leave room for a line end; anything longer is refused unread.
    const { bytes, size } = await readAll(io.stdin, MAX_SECRET_BYTES + 2);
    if (size > MAX_SECRET_BYTES + 2) {
      bytes.fill(0);
      throw usageError(`the value from standard input is ${size} bytes; a secret is at most ${MAX_SECRET_BYTES}`, 'a secret is 8 bytes to 16 KiB of text on one line');
    }
    secret = { value: chomp(bytes), source: 'stdin', origin: 'standard input' };
  }
  try {
    validateSecretValue(secret.value, `the value from ${secret.origin}`);
  } catch (err) {
    secret.value.fill(0);
    if (isTameFlareError(err)) throw new CliError(err.code, err.message, { exitCode: ExitCode.User, cause: err, hint: 'a secret is 8 bytes to 16 KiB of text on one line (API keys and tokens are)' });
    throw err;
  }
  return secret;
}
