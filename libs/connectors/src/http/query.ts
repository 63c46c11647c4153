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

/** Decodes `+` and percent-escapes. ASCII escapes (Stripe's `%5B`/`%5D`) take a fast path; anything else goes through decodeURIComponent. */
export function decodeFormComponent(s: string): string {
  if (s.indexOf('+') >= 0) s = s.replaceAll('+', ' ');
  let i = s.indexOf('%');
  if (i < 0) return s;
  // Stripe's SDK escapes the brackets of every nested key: a native replace keeps those keys cheap and flat.
  if (s.indexOf('%5B') >= 0 || s.indexOf('%5D') >= 0) {
    s = s.replaceAll('%5B', '[').replaceAll('%5D', ']');
    i = s.indexOf('%');
    if (i < 0) return s;
  }
  const parts: string[] = [];
  let last = 0;
  while (i >= 0) {
    const h = hex(s.charCodeAt(i + 1));
    const l = hex(s.charCodeAt(i + 2));
    if (h < 0 || l < 0 || h >= 8) {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    }
    parts.push(s.slice(last, i), String.fromCharCode(h * 16 + l));
    last = i + 3;
    i = s.indexOf('%', last);
  }
  parts.push(s.slice(last));
  return parts.join('');
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
