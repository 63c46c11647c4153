import type { GraphQLFieldResolver } from 'graphql';
import type { Role } from '@tameflare/contracts';
import { fieldRoles, requireRole } from '../../auth/roles.ts';
import type { AuditContext } from '../context.ts';
import { mutationResolvers } from './mutation.ts';
import { queryResolvers } from './query.ts';
import { subscriptionResolvers } from './subscription.ts';
import { typeResolvers } from './types.ts';

type Resolver = GraphQLFieldResolver<unknown, AuditContext>;

function guarded(type: string, field: string, role: Role | undefined, fn: Resolver): Resolver {
  if (!role) throw new Error(`${type}.${field} has no role in fieldRoles`);
  return (parent, args, ctx, info) => {
    requireRole(ctx.principal, role, `${type}.${field}`);
    return fn(parent, args, ctx, info);
  };
}

/** Every resolver, with each root field behind the role `fieldRoles` gives it. */
export function buildResolvers() {
  const roles = fieldRoles as Record<string, Record<string, Role>>;
  const wrap = (type: 'Query' | 'Mutation', fields: Record<string, Resolver>) =>
    Object.fromEntries(Object.entries(fields).map(([f, fn]) => [f, guarded(type, f, roles[type]![f], fn)]));
  return {
    ...typeResolvers,
    Query: wrap('Query', queryResolvers as unknown as Record<string, Resolver>),
    Mutation: wrap('Mutation', mutationResolvers as unknown as Record<string, Resolver>),
    Subscription: Object.fromEntries(
      Object.entries(subscriptionResolvers).map(([f, r]) => [
        f,
        { subscribe: guarded('Subscription', f, roles.Subscription![f], r.subscribe as unknown as Resolver), resolve: r.resolve as unknown as Resolver },
      ]),
    ),
  };
}
