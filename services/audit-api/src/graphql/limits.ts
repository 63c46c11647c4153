import { GraphQLError, getNamedType, getNullableType, isListType, isObjectType, isInterfaceType, Kind, parse, valueFromASTUntyped } from './graphql-runtime.ts';
import type {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE_SIZE } from '@tameflare/audit';

/** Query limits: nesting depth, estimated cost, and parser tokens. */
export interface QueryLimits {
  /** Deepest field nesting allowed (default 12). */
  maxDepth: number;
  /** Highest estimated cost allowed (default 50,000: a page of 500 actions with ~90 fields each). */
  maxCost: number;
  /** Most tokens a document may have (default 4,000): a huge document is refused before it is parsed in full. */
  maxTokens: number;
}

export const defaultLimits: QueryLimits = { maxDepth: 12, maxCost: 50_000, maxTokens: 4000 };

const DEFAULT_PAGE = 50;
/** Lists without a page argument (votes, acknowledgements, matched rules) count as this many. */
const UNPAGED_LIST = 10;

function limitError(message: string, code: string, extra: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/** A validation rule refusing operations nested deeper than `maxDepth` (fragments are followed). */
export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let max = 0;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) {
          if (s.name.value.startsWith('__')) continue;
          max = Math.max(max, s.selectionSet ? 1 + depthOf(s.selectionSet, seen) : 1);
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          max = Math.max(max, depthOf(s.selectionSet, seen));
        } else {
          const f = fragments.get(s.name.value);
          if (!f || seen.has(f.name.value)) continue;
          max = Math.max(max, depthOf(f.selectionSet, new Set([...seen, f.name.value])));
        }
      }
      return max;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            limitError(`the query is ${depth} levels deep; at most ${maxDepth} are allowed`, 'QUERY_TOO_DEEP', { depth, maxDepth }),
          );
        }
      },
    };
  };
}

/**
 * Estimated cost of an operation: every field costs 1, times how many parents it is fetched for.
 * A connection multiplies what is under its `edges`/`nodes` by its page size (`first`/`last`,
 * from literals or variables; 50 when absent); other lists count as 10 items.
 */
export function estimateCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) operation ??= d;
  }
  if (!operation) return 0;
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;
  const pageSize = (field: FieldNode): number | null => {
    for (const a of field.arguments ?? []) {
      if (a.name.value !== 'first' && a.name.value !== 'last') continue;
      const v = valueFromASTUntyped(a.value, variables ?? undefined);
      // Larger pages are refused by the list itself, with its own message.
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.min(v, MAX_PAGE_SIZE);
    }
    return null;
  };
  // `connection` is true inside a connection: its edges/nodes lists are the page, already counted.
  const cost = (type: GraphQLObjectType, set: SelectionSetNode, seen: Set<string>, connection = false): number => {
    let total = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value.startsWith('__')) continue;
        const def: GraphQLField<unknown, unknown> | undefined = type.getFields()[s.name.value];
        if (!def) continue;
        total += 1;
        if (!s.selectionSet) continue;
        const named = getNamedType(def.type);
        if (!isObjectType(named) && !isInterfaceType(named)) continue;
        const isConnection = def.args.some((a) => a.name === 'first');
        const page = connection && (s.name.value === 'edges' || s.name.value === 'nodes');
        const times = isConnection ? (pageSize(s) ?? DEFAULT_PAGE) : page ? 1 : isListType(getNullableType(def.type)) ? UNPAGED_LIST : 1;
        total += times * cost(named as GraphQLObjectType, s.selectionSet, seen, isConnection);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        total += cost(type, s.selectionSet, seen, connection);
      } else {
        const f = fragments.get(s.name.value);
        if (f && !seen.has(f.name.value)) total += cost(type, f.selectionSet, new Set([...seen, f.name.value]), connection);
      }
    }
    return total;
  };
  return cost(root, operation.selectionSet, new Set());
}

/**
 * The limits as a Yoga plugin: the token cap at parse time, the depth rule at validation, the
 * cost check just before execution (when variables are known). Each refusal is a GraphQL error
 * with a code and the numbers, never a server error.
 */
export function useQueryLimits(limits: QueryLimits = defaultLimits): Plugin {
  const check = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined) => {
    const c = estimateCost(schema, document, variables, operationName);
    return c > limits.maxCost
      ? limitError(`the query's estimated cost is ${c}; at most ${limits.maxCost} is allowed (ask for smaller pages or fewer nested lists)`, 'QUERY_TOO_COSTLY', { cost: c, maxCost: limits.maxCost })
      : null;
  };
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimitRule(limits.maxDepth));
    },
    onExecute({ args, setResultAndStopExecution }) {
      const err = check(args.schema, args.document, args.variableValues as Record<string, unknown>, args.operationName);
      if (err) setResultAndStopExecution({ errors: [err] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const err = check(args.schema, args.document, args.variableValues as Record<string, unknown>, args.operationName);
      if (err) setResultAndStopExecution({ errors: [err] });
    },
  };
}
