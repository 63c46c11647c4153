import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { EvaluationInput } from './types.ts';

/**
 * The variables conditions see, built so @bufbuild/cel resolves them cheaply. For `a.b.c` its
 * planner first asks the activation for the qualified name `a.b.c`, then `a.b`, then `a`, and
 * after every miss searches the protobuf registry for a type or enum of that name. Binding
 * every dotted path the bundle's conditions use, as a getter that walks the input, makes the
 * first lookup hit. A path whose value is missing returns undefined, so the library falls back
 * to the shorter name and reports the missing key exactly as it would have.
 */
export type BindingsFactory = (input: EvaluationInput) => Record<string, unknown>;

interface Roots {
  action: Record<string, unknown>;
  agent: EvaluationInput['agent'];
  run: { id: string };
  gateway: { id: string };
  request: EvaluationInput['request'];
  readonly now: unknown;
  session: Record<string, number>;
}

function roots(input: EvaluationInput): Roots {
  const a = input.action;
  let now: unknown;
  return {
    action: { type: a.type, connector: a.connector, resource: a.resource, params: a.params, risk: a.risk, operationId: a.operationId ?? null, notes: a.notes },
    agent: input.agent,
    run: { id: input.runId },
    gateway: { id: input.gatewayId },
    request: input.request,
    get now() {
      return (now ??= timestampFromMs(Date.parse(input.time)));
    },
    session: input.session,
  };
}

const ROOTS = Symbol('roots');
const hasOwn = Object.prototype.hasOwnProperty;

function walk(r: Roots, segments: readonly string[]): unknown {
  let v: unknown = r[segments[0] as keyof Roots];
  for (let i = 1; i < segments.length; i++) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !hasOwn.call(v, segments[i]!)) return undefined;
    v = (v as Record<string, unknown>)[segments[i]!];
  }
  return v;
}

/** A factory of bindings exposing `paths` (and every root variable). */
export function createBindingsFactory(paths: readonly string[]): BindingsFactory {
  const proto: Record<string, unknown> = {};
  const all = new Set(['action', 'agent', 'run', 'gateway', 'request', 'now', 'session', ...paths]);
  for (const path of all) {
    const segments = path.split('.');
    Object.defineProperty(proto, path, {
      get(this: { [ROOTS]: Roots }) {
        return walk(this[ROOTS], segments);
      },
      enumerable: true,
    });
  }
  return (input) => {
    const b = Object.create(proto) as Record<string | symbol, unknown>;
    b[ROOTS] = roots(input);
    return b as Record<string, unknown>;
  };
}
