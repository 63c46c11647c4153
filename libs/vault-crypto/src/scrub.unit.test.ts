import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { REDACTED, createSecretScrubber, secretForms } from './index.ts';

const secret = 'ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5';
const rule = { kind: 'basic', username: 'x-access-token' } as const;
const forms = secretForms(secret, rule);

async function throughScrubber(chunks: Buffer[], s = createSecretScrubber(secret, rule)): Promise<{ out: string; redactions: number }> {
  const parts: Buffer[] = [];
  for await (const c of Readable.from(chunks, { objectMode: false }).pipe(s.body())) parts.push(c as Buffer);
  return { out: Buffer.concat(parts).toString(), redactions: s.redactions };
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) out.push(buf.subarray(last, p));
    last = Math.max(last, p);
  }
  if (last < buf.length) out.push(buf.subarray(last));
  return out;
}

describe('response scrubber', () => {
  it('knows the forms: value, base64, base64url, percent-encoded and the basic credential', () => {
    expect(forms).toContain(secret);
    expect(forms).toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    expect(forms).toContain(Buffer.from(`x-access-token:${secret}`).toString('base64').replace(/=+$/, ''));
    expect(secretForms('a/b+c=d&e f', { kind: 'bearer' })).toContain('a%2Fb%2Bc%3Dd%26e%20f');
  });

  test.prop([
    fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...forms), fc.constantFrom(...forms.map((f) => f.slice(0, 10)))), { maxLength: 30 }),
    fc.array(fc.nat(), { maxLength: 40 }),
  ])('redacts every occurrence whatever the chunking, and changes nothing else', async (pieces, cuts) => {
    const input = pieces.join('');
    let expected = input;
    let count = 0;
    // Reference: leftmost match, longest form first at a position, non-overlapping.
    let out = '';
    let i = 0;
    while (i < expected.length) {
      const f = forms.find((x) => expected.startsWith(x, i));
      if (f) {
        out += REDACTED;
        count++;
        i += f.length;
      } else {
        out += expected[i];
        i++;
      }
    }
    expected = out;
    const got = await throughScrubber(splitAt(Buffer.from(input), cuts));
    expect(got.out).toBe(expected);
    expect(got.redactions).toBe(count);
  });

  it('catches a secret split one byte per chunk', async () => {
    const input = Buffer.from(`{"token":"${secret}","again":"${secret}"}`);
    const got = await throughScrubber([...input].map((b) => Buffer.from([b])));
    expect(got.out).toBe(`{"token":"${REDACTED}","again":"${REDACTED}"}`);
    expect(got.redactions).toBe(2);
  });

  it('does not hold back a streamed event that cannot be the start of a secret (SSE is not delayed)', async () => {
    const s = createSecretScrubber(secret, rule);
    const t = s.body();
    const received: string[] = [];
    t.on('data', (c: Buffer) => received.push(c.toString()));
    t.write('data: {"delta":"hello"}\n\n');
    await new Promise((r) => setImmediate(r));
    expect(received.join('')).toBe('data: {"delta":"hello"}\n\n');
    t.write(`data: ${secret.slice(0, 12)}`);
    await new Promise((r) => setImmediate(r));
    expect(received.join('')).toBe('data: {"delta":"hello"}\n\ndata: ');
    t.end(`${secret.slice(12)}\n\n`);
    await new Promise((r) => t.on('end', r));
    expect(received.join('')).toBe(`data: {"delta":"hello"}\n\ndata: ${REDACTED}\n\n`);
  });

  it('releases a held-back partial match at the end of the stream unchanged', async () => {
    const got = await throughScrubber([Buffer.from(`tail ${secret.slice(0, 20)}`)]);
    expect(got.out).toBe(`tail ${secret.slice(0, 20)}`);
    expect(got.redactions).toBe(0);
  });

  it('scrubs header values, including repeated headers, and counts each redaction', () => {
    const s = createSecretScrubber(secret, rule);
    const h = s.headers({ 'set-cookie': [`a=${secret}`, 'b=1'], location: `https://x/?t=${encodeURIComponent(secret)}`, 'content-length': 12 as unknown as string });
    expect(h).toEqual({ 'set-cookie': [`a=${REDACTED}`, 'b=1'], location: `https://x/?t=${REDACTED}`, 'content-length': 12 });
    expect(s.redactions).toBe(2);
  });
});
