/** A request path split into decoded segments, or the reason it cannot be trusted. */
export interface SplitPath {
  segments: string[];
  /** Set when the path is ambiguous: the upstream may resolve it to a different resource. */
  problem: 'encoded_traversal' | 'path_traversal' | 'invalid_path_encoding' | null;
}

const DOT_SEGMENT = /(^|[/\\])\.\.?([/\\]|$)/;

/**
 * Splits `/a/b%2Fc/d` into `['a', 'b/c', 'd']`. Percent-escapes are decoded per segment, so an
 * encoded slash stays inside its segment as the providers' routers treat it (GitHub refs,
 * file paths). Dot segments, literal or encoded once or twice (`%2e%2e`, `%252e`), and
 * backslashes that decode to them are reported instead of resolved: a gateway that normalises
 * differently from the upstream would classify one resource and forward to another.
 */
export function splitPath(path: string): SplitPath {
  const raw = path.split('/');
  if (raw[0] === '') raw.shift();
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  const segments: string[] = new Array(raw.length);
  let problem: SplitPath['problem'] = null;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    if (s === '.' || s === '..') problem = 'path_traversal';
    if (s.indexOf('%') < 0) {
      segments[i] = s;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      return { segments: [], problem: 'invalid_path_encoding' };
    }
    if (DOT_SEGMENT.test(decoded)) problem = 'encoded_traversal';
    else if (decoded.indexOf('%') >= 0) {
      try {
        if (DOT_SEGMENT.test(decodeURIComponent(decoded))) problem = 'encoded_traversal';
      } catch {
        // A literal percent sign in a decoded segment is fine; only a second decoding to a dot segment matters.
      }
    }
    segments[i] = decoded;
  }
  if (raw.length === 1 && raw[0] === '') segments.length = 0;
  return { segments, problem };
}
