import { CelScalar, celEnv, celFunc, isCelError, parse, plan, type CelEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { timeFuncs } from './cel-time.ts';
import { compileGlob, type Glob } from './glob.ts';

/**
 * CEL for policy conditions, on @bufbuild/cel. Its checker (0.6.x) handles only constants and
 * identifiers and is not exported, so declarations are enforced here on the parsed AST: every
 * variable, every field of a declared object, every function and its arity must exist, and a
 * condition must be able to yield a bool. Evaluation is the library's own.
 */

const globCache = new Map<string, Glob>();
/** `glob(text, pattern)`: `*` matches within one `/`-separated segment, `**` matches anything. */
const globFunc = celFunc('glob', [CelScalar.STRING, CelScalar.STRING], CelScalar.BOOL, (text: string, pattern: string) => {
  let g = globCache.get(pattern);
  if (!g) {
    g = compileGlob(pattern, 'resource');
    if (globCache.size < 10_000) globCache.set(pattern, g);
  }
  return g.test(text);
});

/** The CEL environment every condition runs in: the standard library, string extensions, `glob`. */
export const policyCelEnv: CelEnv = celEnv({ funcs: [...strings, globFunc, ...timeFuncs] });

/** A static type, as far as the declarations know it. */
export type CelStaticType =
  | { k: 'obj'; name: string; fields: Record<string, CelStaticType> }
  | { k: 'map'; value: CelStaticType }
  | { k: 'list'; elem: CelStaticType }
  | { k: 'scalar'; s: 'string' | 'double' | 'int' | 'uint' | 'bool' | 'null' | 'bytes' | 'timestamp' | 'duration' | 'type' | 'dyn' };

const S = (s: Extract<CelStaticType, { k: 'scalar' }>['s']): CelStaticType => ({ k: 'scalar', s });
const DYN = S('dyn');
const BOOL = S('bool');
const STRING = S('string');
const DOUBLE = S('double');
const INT = S('int');
const obj = (name: string, fields: Record<string, CelStaticType>): CelStaticType => ({ k: 'obj', name, fields });

/** The variables a condition may use. `session` has one double field per declared aggregate. */
export function policyDeclarations(aggregateNames: readonly string[]): Record<string, CelStaticType> {
  return {
    action: obj('action', {
      type: STRING,
      connector: STRING,
      resource: DYN,
      params: { k: 'map', value: DYN },
      risk: STRING,
      operationId: DYN,
      notes: { k: 'list', elem: STRING },
    }),
    agent: obj('agent', { id: STRING, name: STRING }),
    run: obj('run', { id: STRING }),
    gateway: obj('gateway', { id: STRING }),
    request: obj('request', { method: STRING, scheme: STRING, host: STRING, port: DOUBLE, path: STRING, query: STRING }),
    now: S('timestamp'),
    session: obj('session', Object.fromEntries(aggregateNames.map((n) => [n, DOUBLE]))),
  };
}

/** A problem in a condition, at a character offset into the expression text. */
export interface CelIssue {
  offset: number;
  message: string;
}

/** What static checking found out about a condition. */
export interface CelCheck {
  issues: CelIssue[];
  /** `session.<name>` fields the condition reads. */
  sessionFields: Set<string>;
  /** Dotted paths from a declared variable the condition reads (`action`, `action.params.amount`). */
  paths: Set<string>;
}

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

const BOOL_RESULT = new Set([
  '_&&_', '_||_', '!_', '_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in', '@not_strictly_false',
  'matches', 'contains', 'startsWith', 'endsWith', 'glob', 'bool',
]);
const INT_RESULT = new Set([
  'size', 'int', 'indexOf', 'lastIndexOf', 'getSeconds', 'getMinutes', 'getHours', 'getMilliseconds',
  'getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear',
]);
const STRING_RESULT = new Set(['string', 'lowerAscii', 'upperAscii', 'replace', 'substring', 'trim', 'charAt', 'format', 'join', 'strings.quote']);

function closest(name: string, options: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(name, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : null;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function describe(t: CelStaticType): string {
  return t.k === 'scalar' ? t.s : t.k === 'obj' ? t.name : t.k;
}

/**
 * Parses and statically checks a condition against the declarations. Never throws: a syntax
 * error is reported as an issue at its offset.
 */
export function checkCondition(source: string, declarations: Record<string, CelStaticType>): CelCheck & { parsed: ParsedExpr | null } {
  const issues: CelIssue[] = [];
  const sessionFields = new Set<string>();
  const paths = new Set<string>();
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (err) {
    const e = err as { location?: { start?: { offset?: number } }; message?: string };
    const message = String(e.message ?? err).replace(/^<input>:\d+:\d+: /, '');
    issues.push({ offset: e.location?.start?.offset ?? 0, message: `CEL syntax error: ${message}` });
    return { issues, sessionFields, paths, parsed: null };
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const at = (e: Expr, shift = 0) => (positions[String(e.id)] ?? 0) + shift;
  const scopes: Map<string, CelStaticType>[] = [];

  const lookupLocal = (name: string): CelStaticType | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const t = scopes[i]!.get(name);
      if (t) return t;
    }
    return undefined;
  };

  const field = (operand: CelStaticType, name: string, node: Expr, path: string | null): CelStaticType => {
    if (operand.k === 'obj') {
      const f = operand.fields[name];
      if (f) return f;
      const known = Object.keys(operand.fields);
      const hint = closest(name, known);
      const where = path ?? operand.name;
      issues.push({
        offset: at(node, 1),
        message:
          operand.name === 'session' && known.length === 0
            ? `unknown field "session.${name}": the bundle declares no aggregates`
            : `unknown field "${where}.${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known fields: ${known.join(', ')}`,
      });
      return DYN;
    }
    if (operand.k === 'map') return operand.value;
    if (operand.k === 'scalar' && operand.s === 'dyn') return DYN;
    issues.push({ offset: at(node, 1), message: `cannot read field "${name}" of a ${describe(operand)}` });
    return DYN;
  };

  // Dotted path of a select chain rooted at a declared variable, for messages and session tracking.
  const pathOf = (e: Expr): string | null => {
    if (e.exprKind.case === 'identExpr') return lookupLocal(e.exprKind.value.name) ? null : e.exprKind.value.name;
    if (e.exprKind.case === 'selectExpr') {
      const p = pathOf(e.exprKind.value.operand!);
      return p === null ? null : `${p}.${e.exprKind.value.field}`;
    }
    return null;
  };

  const visit = (e: Expr): CelStaticType => {
    const kind = e.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        const c = kind.value.constantKind.case;
        if (c === 'boolValue') return BOOL;
        if (c === 'stringValue') return STRING;
        if (c === 'int64Value') return INT;
        if (c === 'uint64Value') return S('uint');
        if (c === 'doubleValue') return DOUBLE;
        if (c === 'nullValue') return S('null');
        if (c === 'bytesValue') return S('bytes');
        return DYN;
      }
      case 'identExpr': {
        const name = kind.value.name;
        const local = lookupLocal(name);
        if (local) return local;
        const t = declarations[name];
        if (t) {
          paths.add(name);
          return t;
        }
        const hint = closest(name, Object.keys(declarations));
        issues.push({
          offset: at(e),
          message: `unknown variable "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; conditions can use ${Object.keys(declarations).join(', ')}`,
        });
        return DYN;
      }
      case 'selectExpr': {
        const operandExpr = kind.value.operand!;
        const operand = visit(operandExpr);
        const path = pathOf(operandExpr);
        if (path === 'session') sessionFields.add(kind.value.field);
        if (path !== null && !kind.value.testOnly) paths.add(`${path}.${kind.value.field}`);
        const t = field(operand, kind.value.field, e, path);
        return kind.value.testOnly ? BOOL : t;
      }
      case 'callExpr': {
        const { function: fn, args } = kind.value;
        const target = kind.value.target;
        const targetType = target ? visit(target) : undefined;
        const argTypes = args.map(visit);
        if (fn === '_[_]') {
          const [container] = argTypes;
          const keyExpr = args[1];
          const base = pathOf(args[0]!);
          if (base !== null && keyExpr?.exprKind.case === 'constExpr' && keyExpr.exprKind.value.constantKind.case === 'stringValue') {
            paths.add(`${base}.${keyExpr.exprKind.value.constantKind.value}`);
          }
          if (container?.k === 'list') return container.elem;
          if (container?.k === 'map') return container.value;
          if (container?.k === 'obj' && keyExpr?.exprKind.case === 'constExpr' && keyExpr.exprKind.value.constantKind.case === 'stringValue') {
            const name = keyExpr.exprKind.value.constantKind.value;
            if (pathOf(args[0]!) === 'session') sessionFields.add(name);
            return field(container, name, keyExpr, pathOf(args[0]!));
          }
          if (container?.k === 'obj' && pathOf(args[0]!) === 'session') {
            issues.push({ offset: at(e), message: 'session aggregates must be named literally (session.name), so the engine knows which to compute' });
          }
          return DYN;
        }
        if (fn === '_?_:_') {
          const [, a, b] = argTypes;
          return a && b && describe(a) === describe(b) ? a : DYN;
        }
        if (!/^[_@!-]/.test(fn)) {
          const group = policyCelEnv.funcs.find(fn);
          if (!group) {
            const names = new Set<string>();
            for (const f of policyCelEnv.funcs) if (/^[a-z]/i.test(f.name)) names.add(f.name);
            const hint = closest(fn, names);
            issues.push({ offset: at(e), message: `unknown function "${fn}"${hint ? ` (did you mean "${hint}"?)` : ''}` });
            return DYN;
          }
          const overloads = [...group];
          const fits = overloads.some((f) => (f.target !== undefined) === (target !== undefined) && f.arguments.length === args.length);
          if (!fits) {
            const forms = overloads.map((f) => `${f.target ? `${describe(celTypeToStatic(f.target))}.` : ''}${fn}(${f.arguments.map((a) => describe(celTypeToStatic(a))).join(', ')})`);
            issues.push({ offset: at(e), message: `no form of "${fn}" takes ${target ? 'a receiver and ' : ''}${args.length} argument(s); it is used as ${[...new Set(forms)].join(' or ')}` });
            return DYN;
          }
          if (targetType && fn === 'size') return INT;
        }
        if (BOOL_RESULT.has(fn)) return BOOL;
        if (INT_RESULT.has(fn)) return INT;
        if (STRING_RESULT.has(fn)) return STRING;
        if (fn === 'double') return DOUBLE;
        if (fn === 'timestamp') return S('timestamp');
        if (fn === 'duration') return S('duration');
        if (fn === 'split') return { k: 'list', elem: STRING };
        return DYN;
      }
      case 'listExpr': {
        const elems = kind.value.elements.map(visit);
        const first = elems[0];
        return { k: 'list', elem: first && elems.every((t) => describe(t) === describe(first)) ? first : DYN };
      }
      case 'structExpr': {
        if (kind.value.messageName) {
          issues.push({ offset: at(e), message: `message literals (${kind.value.messageName}{...}) are not available in policy conditions` });
        }
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value);
          if (entry.value) visit(entry.value);
        }
        return { k: 'map', value: DYN };
      }
      case 'comprehensionExpr': {
        const c = kind.value;
        const range = visit(c.iterRange!);
        const accuInit = visit(c.accuInit!);
        const elem = range.k === 'list' ? range.elem : range.k === 'map' ? STRING : DYN;
        const scope = new Map<string, CelStaticType>([[c.accuVar, accuInit.k === 'list' ? { k: 'list', elem: DYN } : DYN]]);
        if (c.iterVar) scope.set(c.iterVar, elem);
        if (c.iterVar2) scope.set(c.iterVar2, range.k === 'map' ? range.value : DYN);
        scopes.push(scope);
        visit(c.loopCondition!);
        visit(c.loopStep!);
        const result = visit(c.result!);
        scopes.pop();
        return result;
      }
      default:
        issues.push({ offset: at(e), message: 'unsupported expression' });
        return DYN;
    }
  };

  const result = visit(parsed.expr);
  if (!(result.k === 'scalar' && (result.s === 'bool' || result.s === 'dyn'))) {
    const what = describe(result);
    issues.push({ offset: 0, message: `a condition must be true or false, but this one yields ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}` });
  }
  return { issues, sessionFields, paths, parsed };
}

function celTypeToStatic(t: { kind: string; name: string }): CelStaticType {
  if (t.kind === 'scalar') return S(t.name === 'null_type' ? 'null' : (t.name as 'string'));
  if (t.kind === 'list') return { k: 'list', elem: DYN };
  if (t.kind === 'map') return { k: 'map', value: DYN };
  if (t.name === 'google.protobuf.Timestamp') return S('timestamp');
  if (t.name === 'google.protobuf.Duration') return S('duration');
  return obj(t.name, {});
}

/** A planned condition: returns true, false, or an error message. */
export type ConditionProgram = (bindings: Record<string, unknown>) => boolean | { error: string };

/** Plans a condition that passed {@link checkCondition}. */
export function planCondition(parsed: ParsedExpr): ConditionProgram {
  const run = plan(policyCelEnv, parsed) as (ctx: Record<string, unknown>) => unknown;
  return (bindings) => {
    const r = run(bindings);
    if (isCelError(r)) return { error: r.message };
    if (typeof r !== 'boolean') return { error: `condition yielded ${r === null ? 'null' : typeof r === 'bigint' ? 'an int' : `a ${typeof r}`}, not a bool` };
    return r;
  };
}
