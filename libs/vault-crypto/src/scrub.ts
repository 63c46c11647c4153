import { Transform, type TransformCallback } from 'node:stream';
import type { CredentialInjection } from '@tameflare/contracts';
import { basicCredential } from './inject.ts';

/** What every redacted occurrence is replaced with. */
export const REDACTED = '[REDACTED]';
const REDACTED_BYTES = Buffer.from(REDACTED);

/**
 * Every form in which an injected secret could come back: the value, its base64 and base64url
 * (unpadded, so padded copies match too), its percent-encoding, and for `basic` the exact
 * `user:secret` credential in base64. Longest first, so the longest match wins at a position.
 */
export function secretForms(secret: string, rule: CredentialInjection): string[] {
  const b64 = Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, '');
  const forms = [secret, b64, Buffer.from(secret, 'utf8').toString('base64url'), encodeURIComponent(secret)];
  if (rule.kind === 'basic') forms.push(basicCredential(rule, secret).replace(/=+$/, ''));
  return [...new Set(forms)].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/** Redacts one injected secret from an upstream response, counting what it redacted. */
export interface SecretScrubber {
  /** Occurrences redacted so far, over headers, texts and every body stream. */
  readonly redactions: number;
  /**
   * A Transform for the response body. Matches are found across chunk boundaries; only a
   * chunk's tail that could still begin a match is held back (usually nothing), so streams such
   * as SSE are not delayed. The body length changes when something is redacted: send it chunked.
   */
  body(): Transform;
  /** A copy of `headers` with every value scrubbed (names kept). */
  headers<H extends Record<string, string | string[] | number | undefined>>(headers: H): H;
  /** One complete string, scrubbed. */
  text(value: string): string;
}

/** A scrubber for one secret injected by `rule`. */
export function createSecretScrubber(secret: string, rule: CredentialInjection): SecretScrubber {
  const forms = secretForms(secret, rule);
  const needles = forms.map((f) => Buffer.from(f, 'utf8'));
  const maxLen = needles[0]?.length ?? 0;
  const firstByte = new Uint8Array(256);
  for (const n of needles) firstByte[n[0]!] = 1;
  let redactions = 0;

  const text = (value: string): string => {
    let s = value;
    for (const f of forms) {
      if (!s.includes(f)) continue;
      const parts = s.split(f);
      redactions += parts.length - 1;
      s = parts.join(REDACTED);
    }
    return s;
  };

  /** Length of the longest tail of buf[from..] that is a proper prefix of some needle. */
  const partialTail = (buf: Buffer, from: number): number => {
    for (let k = Math.min(maxLen - 1, buf.length - from); k > 0; k--) {
      const start = buf.length - k;
      if (!firstByte[buf[start]!]) continue;
      for (const n of needles) if (n.length > k && buf.compare(n, 0, k, start) === 0) return k;
    }
    return 0;
  };

  const body = (): Transform => {
    let pending: Buffer = Buffer.alloc(0);
    const next = new Array<number>(needles.length).fill(-2);
    const run = (buf: Buffer, final: boolean): Buffer | null => {
      next.fill(-2);
      const parts: Buffer[] = [];
      let pos = 0;
      for (;;) {
        let at = -1;
        let len = 0;
        for (let i = 0; i < needles.length; i++) {
          if (next[i] !== -1 && next[i]! < pos) next[i] = buf.indexOf(needles[i]!, pos);
          const j = next[i]!;
          if (j >= 0 && (at < 0 || j < at)) {
            at = j;
            len = needles[i]!.length;
          }
        }
        if (at < 0) break;
        parts.push(buf.subarray(pos, at), REDACTED_BYTES);
        redactions++;
        pos = at + len;
      }
      const hold = final ? 0 : partialTail(buf, pos);
      const end = buf.length - hold;
      pending = hold ? Buffer.from(buf.subarray(end)) : Buffer.alloc(0);
      if (parts.length === 0) return end === buf.length ? buf : end > 0 ? buf.subarray(0, end) : null;
      if (end > pos) parts.push(buf.subarray(pos, end));
      return Buffer.concat(parts);
    };
    return new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const out = run(buf, false);
        cb(null, out && out.length ? out : undefined);
      },
      flush(cb: TransformCallback) {
        const out = pending.length ? run(pending, true) : null;
        cb(null, out && out.length ? out : undefined);
      },
    });
  };

  const headers = <H extends Record<string, string | string[] | number | undefined>>(h: H): H => {
    const out: Record<string, string | string[] | number | undefined> = {};
    for (const [k, v] of Object.entries(h)) out[k] = typeof v === 'string' ? text(v) : Array.isArray(v) ? v.map(text) : v;
    return out as H;
  };

  return {
    get redactions() {
      return redactions;
    },
    body,
    headers,
    text,
  };
}
