import { Type, type Static } from '@sinclair/typebox';
import { Name, Strict, Text } from './schema.ts';

/** How much harm an action can do. Classification errs towards the riskier level. */
export const RiskSchema = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('destructive')]);
export type Risk = Static<typeof RiskSchema>;

/** A parameter a policy can test: scalars, or a short list of scalars. */
export const ParamValueSchema = Type.Union([
  Type.String({ maxLength: 2000 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean()]), { maxItems: 100 }),
]);
export type ParamValue = Static<typeof ParamValueSchema>;

/**
 * An outbound request, understood: what the agent is trying to do.
 *
 * `type` is `provider.resource.verb` (`github.repo.delete`, `stripe.refund.create`,
 * `mcp.tool.search`, `http.post`). `notes` records anything that made the classifier
 * conservative (`body_over_limit`, `invalid_json`, `graphql_parse_error`...).
 */
export const ActionSchema = Type.Object(
  {
    type: Type.String({ pattern: '^[a-z0-9_]+(\\.[A-Za-z0-9_:/-]+)+$', maxLength: 256 }),
    connector: Name,
    resource: Type.Union([Text(500), Type.Null()]),
    params: Type.Record(Type.String({ maxLength: 128 }), ParamValueSchema),
    risk: RiskSchema,
    operationId: Type.Optional(Text(200)),
    notes: Type.Array(Text(200), { maxItems: 20 }),
  },
  Strict,
);
export type Action = Static<typeof ActionSchema>;

/** How a connector puts its credential on the upstream request. */
export const CredentialInjectionSchema = Type.Union([
  Type.Object({ kind: Type.Literal('bearer') }, Strict),
  Type.Object({ kind: Type.Literal('basic'), username: Type.Optional(Text(200)) }, Strict),
  Type.Object({ kind: Type.Literal('header'), name: Type.String({ pattern: '^[A-Za-z0-9-]{1,100}$' }), prefix: Type.Optional(Text(100)) }, Strict),
  Type.Object({ kind: Type.Literal('query'), name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' }) }, Strict),
]);
export type CredentialInjection = Static<typeof CredentialInjectionSchema>;

/** The three decisions a policy can reach. */
export const DecisionSchema = Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('require_approval')]);
export type Decision = Static<typeof DecisionSchema>;

/** `enforce` blocks what policy denies; `monitor` decides and records but never blocks. */
export const EnforcementModeSchema = Type.Union([Type.Literal('enforce'), Type.Literal('monitor')]);
export type EnforcementMode = Static<typeof EnforcementModeSchema>;

/** Who may decide an approval. */
export const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('approver'), Type.Literal('admin')]);
export type Role = Static<typeof RoleSchema>;

/** What a kill switch stops: everything, one gateway, one agent, or one connector. */
export const KillSwitchScopeSchema = Type.Union([
  Type.Object({ kind: Type.Literal('all') }, Strict),
  Type.Object({ kind: Type.Literal('gateway'), value: Name }, Strict),
  Type.Object({ kind: Type.Literal('agent'), value: Name }, Strict),
  Type.Object({ kind: Type.Literal('connector'), value: Name }, Strict),
]);
export type KillSwitchScope = Static<typeof KillSwitchScopeSchema>;

/** The key a kill switch scope is stored and compared under, e.g. `agent.my-agent` or `all`. */
export function killSwitchScopeKey(scope: KillSwitchScope): string {
  return scope.kind === 'all' ? 'all' : `${scope.kind}.${scope.value}`;
}
