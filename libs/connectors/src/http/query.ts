/** Query parameters; a key given more than once keeps every value, in order. */
export interface ParsedPairs {
  values: Map<string, string | string[]>;
  duplicates: boolean;
}

export function decodeFormComponent(s: string): string {
  if (s.indexOf('+') >= 0) s = s.replace(/\+/g, ' ');
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

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
      const value = hasEq ? decodeFormComponent(text.slice(eq + 1, end)) : '';
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
