import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { ParsedArgs } from '../registry.ts';
import { readSecretValue } from './secret-value.ts';

const dir = mkdtempSync(join(tmpdir(), 'tf-secret-value-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALUE = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
const args = (values: ParsedArgs['values'], positionals = ['github']): ParsedArgs => ({ values, positionals });
const pipe = (text: string | Buffer) => Object.assign(Readable.from([Buffer.from(text)]), { isTTY: false });
const io = (o: { env?: Record<string, string>; stdin?: Readable & { isTTY?: boolean } } = {}) => ({ env: o.env ?? {}, cwd: dir, stdin: o.stdin ?? pipe('') });
const read = (a: ParsedArgs, o: Parameters<typeof io>[0] = {}) => readSecretValue(a, io(o));
/** The refusal, checked never to contain the value. */
async function refusal(a: ParsedArgs, o: Parameters<typeof io>[0] = {}): Promise<{ message: string; hint: string; exitCode: number }> {
  const err = (await read(a, o).then(() => null, (e: unknown) => e)) as { message: string; hint: string; exitCode: number } | null;
  expect(err, 'should be refused').not.toBeNull();
  expect(`${err!.message} ${err!.hint}`).not.toContain(VALUE);
  expect(err!.exitCode).toBe(1);
  return err!;
}

describe('reading a secret value', () => {
  it('takes it from an environment variable, a file or a pipe, dropping one trailing newline', async () => {
    expect(await read(args({ 'from-env': 'TOKEN' }), { env: { TOKEN: VALUE } })).toMatchObject({ source: 'env', origin: 'environment variable TOKEN', value: Buffer.from(VALUE) });
    writeFileSync(join(dir, 'key.txt'), `${VALUE}\r\n`);
    expect(await read(args({ 'from-file': 'key.txt' }))).toMatchObject({ source: 'file', value: Buffer.from(VALUE) });
    expect(await read(args({ stdin: true }), { stdin: pipe(`${VALUE}\n`) })).toMatchObject({ source: 'stdin', origin: 'standard input', value: Buffer.from(VALUE) });
  });

  it('refuses a value given on the command line without repeating it', async () => {
    const e = await refusal(args({ 'from-env': 'TOKEN' }, ['github', VALUE]), { env: { TOKEN: VALUE } });
    expect(e.message).toBe('a secret value is never taken from the command line: it would stay in the shell history and be visible in ps');
    expect(e.hint).toContain('--stdin');
    expect((await refusal(args({ 'from-env': VALUE }))).message).toBe('the environment variable named by --from-env is not set (the name is not repeated in case it is a value)');
    expect((await refusal(args({ 'from-env': `${VALUE}/+=` }))).message).toBe('--from-env takes the NAME of an environment variable (letters, digits and _), not a value');
  });

  it('wants exactly one source, one that exists, and a value the vault accepts', async () => {
    expect((await refusal(args({}))).message).toBe('no source for the secret value');
    expect((await refusal(args({ 'from-env': 'A', stdin: true }), { env: { A: VALUE } })).message).toBe('give exactly one source for the value');
    expect((await refusal(args({ 'from-env': 'MISSING' }))).message).toBe('environment variable MISSING is not set');
    expect((await refusal(args({ 'from-env': 'EMPTY' }), { env: { EMPTY: '' } })).message).toBe('environment variable EMPTY is empty');
    expect((await refusal(args({ 'from-file': 'nope.txt' }))).message).toBe('cannot read nope.txt: no such file');
    expect((await refusal(args({ 'from-file': '.' }))).message).toBe('. is not a regular file');
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(20_000));
    expect((await refusal(args({ 'from-file': 'big.txt' }))).message).toBe('big.txt is 20000 bytes; a secret is at most 16384');
    expect((await refusal(args({ stdin: true }), { stdin: pipe('x'.repeat(17_000)) })).message).toBe('the value from standard input is 17000 bytes; a secret is at most 16384');
    expect((await refusal(args({ stdin: true }), { stdin: pipe('x'.repeat(16_385)) })).message).toBe('the value from standard input is 16385 bytes; the limit is 16384');
    expect(await read(args({ stdin: true }), { stdin: pipe(`${'x'.repeat(16_384)}\n`) })).toMatchObject({ value: Buffer.from('x'.repeat(16_384)) });
    expect((await refusal(args({ stdin: true }), { stdin: pipe('short') })).message).toBe('the value from standard input is 5 bytes; the minimum is 8');
    expect((await refusal(args({ stdin: true }), { stdin: pipe(`${VALUE}\n${VALUE}`) })).message).toContain('control characters');
    expect((await refusal(args({ stdin: true }), { stdin: pipe(Buffer.from([0xff, 0xfe, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41])) })).message).toBe('the value from standard input is not valid UTF-8');
    expect((await refusal(args({ stdin: true }), { stdin: Object.assign(Readable.from([]), { isTTY: true }) })).message).toBe('--stdin reads a pipe, and standard input is a terminal');
    writeFileSync(join(dir, 'locked.txt'), VALUE);
    chmodSync(join(dir, 'locked.txt'), 0o000);
    if (process.getuid?.() !== 0) expect((await refusal(args({ 'from-file': 'locked.txt' }))).message).toMatch(/^cannot read locked\.txt: /);
  });
});
