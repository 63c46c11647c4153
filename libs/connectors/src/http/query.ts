/** Query parameters; a key given more than once keeps every value, in order. */
export interface ParsedPairs {
  values: Map<string, string | string[]>;
  duplicates: boolean;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 32;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Decodes `+` and percent-escapes. ASCII escapes (Stripe's `%5B`/`%5D`) are decoded in one pass; anything else goes through decodeURIComponent. */
export function decodeFormComponent(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 43) break;
  }
  if (i === n) return s;
  if (n > 1024) return slowDecode(s);
  const codes: number[] = [];
  for (let j = 0; j < i; j++) codes.push(s.charCodeAt(j));
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 43) codes.push(32);
    else if (c === 37) {
      const h = hex(s.charCodeAt(i + 1));
      const l = hex(s.charCodeAt(i + 2));
      if (h < 0 || l < 0 || h >= 8) return slowDecode(s);
      codes.push(h * 16 + l);
      i += 2;
    } else codes.push(c);
  }
  return String.fromCharCode.apply(null, codes);
}

function slowDecode(s: string): string {
  const spaced = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Values longer than this (encoded) cannot decode to a recordable parameter; they are kept raw and never decoded. */
const LONG_VALUE = 3 * 256 + 3;

/** Parses `a=1&b=2&a=3` (URL query or form body). Never throws; bad escapes stay as written. */
export function parsePairs(text: string): ParsedPairs {
  const values = new Map<string, string | string[]>();
  let duplicates = false;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('&', start);
    if (end < 0) end = n;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const hasEq = eq >= 0 && eq < end;
      const key = decodeFormComponent(text.slice(start, hasEq ? eq : end));
      const value = !hasEq ? '' : end - eq - 1 > LONG_VALUE ? text.slice(eq + 1, end) : decodeFormComponent(text.slice(eq + 1, end));
      const prev = values.get(key);
      if (prev === undefined) values.set(key, value);
      else {
        if (!key.endsWith('[]')) duplicates = true;
        if (Array.isArray(prev)) prev.push(value);
        else values.set(key, [prev, value]);
      }
    }
    start = end + 1;
  }
  return { values, duplicates };
}
