import { randomBytes, randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = Buffer.allocUnsafe(16 * 256);
let poolOffset = pool.length;

let lastMs = -1;
let seq = 0;

/**
 * A UUID version 7 (RFC 9562): time-ordered, so ids sort by creation time and index well.
 * Within one process ids are strictly increasing even inside one millisecond: the 12-bit
 * `rand_a` field is a counter seeded at random for each new millisecond (RFC 9562 §6.2,
 * method 1), so two actions of one run recorded in the same millisecond keep their order.
 * Random bits come from a pooled CSPRNG buffer because this runs on the hot path.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  let ms = Math.floor(now);
  if (ms > lastMs) {
    lastMs = ms;
    seq = ((b[6]! & 0x07) << 8) | b[7]!;
  } else {
    ms = lastMs;
    seq++;
    if (seq > 0xfff) {
      lastMs = ms = lastMs + 1;
      seq = 0;
    }
  }
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (seq >>> 8);
  b[7] = seq & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

/** A URL-safe random secret of `bytes` bytes with a readable prefix, e.g. `tfr_…` for run tokens. */
export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

/** The pattern every gateway, agent and connector id follows, so it is safe inside a NATS subject token. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';
const NAME_RE = new RegExp(NAME_PATTERN);

/** True when `value` can be used as a gateway, agent or connector id. */
export function isValidName(value: string): boolean {
  return NAME_RE.test(value);
}
