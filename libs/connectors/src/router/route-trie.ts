/**
 * A compiled route tree per HTTP method: static segments are looked up in a Map, then a
 * single-segment parameter, then a multi-segment parameter (GitHub's `x-multi-segment`, for
 * refs and file paths with slashes), shortest first. Lookup cost grows with the number of
 * path segments, not with the number of routes.
 */
export interface RouteTemplate<R> {
  method: string;
  /** `/repos/{owner}/{repo}/git/refs/{ref}`, relative to the connector's base path. */
  path: string;
  /** Names of parameters that may span several segments. */
  multiSegment?: readonly string[];
  route: R;
}

export interface RouteMatch<R> {
  route: R;
  /** Parameter names in path order, with the decoded values matched. */
  names: readonly string[];
  values: string[];
}

interface Node<R> {
  statics: Map<string, Node<R>> | null;
  param: Node<R> | null;
  multi: Node<R> | null;
  leaf: { route: R; names: string[] } | null;
}

const newNode = <R>(): Node<R> => ({ statics: null, param: null, multi: null, leaf: null });

export interface RouteTrie<R> {
  match(method: string, segments: readonly string[]): RouteMatch<R> | null;
  /** Number of distinct (method, path) routes compiled. */
  readonly size: number;
}

const PARAM = /^\{([^{}]+)\}$/;

export function compileRoutes<R>(templates: Iterable<RouteTemplate<R>>): RouteTrie<R> {
  const roots = new Map<string, Node<R>>();
  let size = 0;
  for (const t of templates) {
    const method = t.method.toUpperCase();
    let node = roots.get(method);
    if (!node) roots.set(method, (node = newNode()));
    const names: string[] = [];
    // Split exactly as request paths are (http/path.ts): no leading segment, a trailing slash ignored, `/` is no segment at all.
    const segs = t.path.split('/');
    if (segs[0] === '') segs.shift();
    if (segs[segs.length - 1] === '') segs.pop();
    for (const seg of segs) {
      const p = PARAM.exec(seg);
      if (p) {
        const name = p[1]!;
        names.push(name);
        if (t.multiSegment?.includes(name)) node = node.multi ??= newNode();
        else node = node.param ??= newNode();
      } else {
        node.statics ??= new Map();
        let next = node.statics.get(seg);
        if (!next) node.statics.set(seg, (next = newNode()));
        node = next;
      }
    }
    if (!node.leaf) {
      node.leaf = { route: t.route, names };
      size++;
    }
  }

  function walk(node: Node<R>, segs: readonly string[], i: number, values: string[]): Node<R> | null {
    if (i === segs.length) return node.leaf ? node : null;
    const s = segs[i]!;
    const st = node.statics?.get(s);
    if (st) {
      const r = walk(st, segs, i + 1, values);
      if (r) return r;
    }
    if (node.param && s !== '') {
      values.push(s);
      const r = walk(node.param, segs, i + 1, values);
      if (r) return r;
      values.pop();
    }
    if (node.multi && s !== '') {
      for (let j = i + 1; j <= segs.length; j++) {
        values.push(segs.slice(i, j).join('/'));
        const r = walk(node.multi, segs, j, values);
        if (r) return r;
        values.pop();
      }
    }
    return null;
  }

  return {
    size,
    match(method, segments) {
      const root = roots.get(method);
      if (!root) return null;
      const values: string[] = [];
      const node = walk(root, segments, 0, values);
      return node ? { route: node.leaf!.route, names: node.leaf!.names, values } : null;
    },
  };
}
