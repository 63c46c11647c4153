import type { Action, Risk } from '@tameflare/contracts';
import type { RequestContext } from '../context.ts';
import type { GeneratedTables } from '../generated-tables.ts';
import { riskOfMethod, soundsDestructive } from '../risk.ts';
import { compileRoutes, type RouteTemplate, type RouteTrie } from '../router/route-trie.ts';
import { classifyGraphql, type GraphqlSchemaIndex } from './github-graphql.ts';
import { classifyRest, stripBase, untrustedPathAction, type RestRoute } from './rest.ts';

type Refine = NonNullable<RestRoute['refine']>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `heads/main` or `refs/heads/main` → branch/tag/ref naming. */
function refKind(ref: string | undefined): { kind: 'branch' | 'tag' | 'ref'; name: string | undefined } {
  const r = ref?.replace(/^refs\//, '');
  if (r?.startsWith('heads/')) return { kind: 'branch', name: r.slice(6) };
  if (r?.startsWith('tags/')) return { kind: 'tag', name: r.slice(5) };
  return { kind: 'ref', name: undefined };
}

function refAlias(verb: string, field: 'ref'): Refine {
  return (params, sink) => {
    const { kind, name } = refKind(str(params[field]));
    if (name !== undefined) sink.add(kind, name);
    return { type: `github.${kind}.${verb}` };
  };
}

/** A branch the request names, recorded as `branch` so one policy field covers every route. */
function withBranch(type: string, field: string, refine?: Refine): Refine {
  return (params, sink) => {
    const b = str(params[field]);
    if (b !== undefined) sink.add('branch', b.replace(/^refs\/heads\//, ''));
    return refine?.(params, sink) ?? { type };
  };
}

const closing = (open: string, closed: string): Refine => (params) => ({ type: params.state === 'closed' ? closed : open });

/**
 * Short names for the operations policies talk about most (the TameFlare vocabulary), keyed by
 * GitHub's operationId. Every other operation is `github.<category>.<operation>`.
 */
const ALIASES: Record<string, { type: string; refine?: Refine; risk?: Risk }> = {
  'repos/get': { type: 'github.repo.get' },
  'repos/update': { type: 'github.repo.update' },
  'repos/delete': { type: 'github.repo.delete' },
  'repos/create-for-authenticated-user': { type: 'github.repo.create' },
  'repos/create-in-org': { type: 'github.repo.create' },
  'repos/create-using-template': { type: 'github.repo.create' },
  'repos/create-fork': { type: 'github.repo.fork' },
  'repos/transfer': { type: 'github.repo.transfer', risk: 'destructive' },
  'pulls/list': { type: 'github.pr.list' },
  'pulls/get': { type: 'github.pr.get' },
  'pulls/create': { type: 'github.pr.create', refine: withBranch('github.pr.create', 'base') },
  'pulls/update': { type: 'github.pr.update', refine: withBranch('github.pr.update', 'base', closing('github.pr.update', 'github.pr.close')) },
  'pulls/merge': { type: 'github.pr.merge' },
  'pulls/create-review': { type: 'github.pr.review' },
  'pulls/update-branch': { type: 'github.pr.update_branch' },
  'issues/list-for-repo': { type: 'github.issue.list' },
  'issues/get': { type: 'github.issue.get' },
  'issues/create': { type: 'github.issue.create' },
  'issues/update': { type: 'github.issue.update', refine: closing('github.issue.update', 'github.issue.close') },
  'issues/create-comment': { type: 'github.issue.comment' },
  'issues/lock': { type: 'github.issue.lock' },
  'git/create-ref': { type: 'github.ref.create', refine: refAlias('create', 'ref') },
  'git/update-ref': { type: 'github.ref.update', refine: refAlias('update', 'ref') },
  'git/delete-ref': { type: 'github.ref.delete', refine: refAlias('delete', 'ref') },
  'repos/list-branches': { type: 'github.branch.list' },
  'repos/get-branch': { type: 'github.branch.get', refine: withBranch('github.branch.get', 'branch') },
  'repos/rename-branch': { type: 'github.branch.rename', refine: withBranch('github.branch.rename', 'branch') },
  'repos/merge': { type: 'github.branch.merge', refine: withBranch('github.branch.merge', 'base') },
  'repos/update-branch-protection': { type: 'github.branch.protect', refine: withBranch('github.branch.protect', 'branch') },
  'repos/delete-branch-protection': { type: 'github.branch.unprotect', risk: 'destructive', refine: withBranch('github.branch.unprotect', 'branch') },
  'repos/get-content': { type: 'github.file.get' },
  'repos/create-or-update-file-contents': {
    type: 'github.file.update',
    refine: withBranch('github.file.update', 'branch', (p) => ({ type: p.sha === undefined ? 'github.file.create' : 'github.file.update' })),
  },
  'repos/delete-file': { type: 'github.file.delete', refine: withBranch('github.file.delete', 'branch') },
  'repos/list-releases': { type: 'github.release.list' },
  'repos/create-release': { type: 'github.release.create' },
  'repos/update-release': { type: 'github.release.update' },
  'repos/delete-release': { type: 'github.release.delete' },
  'repos/add-collaborator': { type: 'github.collaborator.add' },
  'repos/remove-collaborator': { type: 'github.collaborator.remove' },
  'orgs/update': { type: 'github.org.update' },
  'teams/create': { type: 'github.team.create' },
  'actions/create-workflow-dispatch': { type: 'github.workflow.dispatch' },
};

/** `repos/delete-ref` → `github.repos.delete_ref`. */
export function githubTypeOf(operationId: string): string {
  return `github.${operationId.replace(/\//g, '.').replace(/-/g, '_')}`;
}

export function githubRoute(method: string, operationId: string): RestRoute {
  const alias = ALIASES[operationId];
  let risk = riskOfMethod(method);
  if (risk === 'write' && soundsDestructive(operationId.split('/')[1] ?? '')) risk = 'destructive';
  const route: RestRoute = { type: alias?.type ?? githubTypeOf(operationId), operationId, risk: alias?.risk ?? risk };
  if (alias?.refine) route.refine = alias.refine;
  return route;
}

function templates(ops: GeneratedTables['githubRest']['operations']): RouteTemplate<RestRoute>[] {
  return ops.map(([method, path, operationId, multi]) => ({ method, path, multiSegment: multi, route: githubRoute(method, operationId) }));
}

export function githubResource(p: Record<string, unknown>): string | null {
  if (typeof p.owner === 'string' && typeof p.repo === 'string') return `${p.owner}/${p.repo}`;
  if (typeof p.org === 'string') return `orgs/${p.org}`;
  if (typeof p.enterprise === 'string') return `enterprises/${p.enterprise}`;
  if (typeof p.username === 'string') return `users/${p.username}`;
  return null;
}

export interface GithubConnector {
  restTrie: RouteTrie<RestRoute>;
  enterpriseTrie: RouteTrie<RestRoute>;
  classify(ctx: RequestContext, connector: string, enterprise: boolean): Action;
}

/** GitHub: REST from the OpenAPI description, `/graphql` by operation. Enterprise Server hosts serve the API under `/api/v3` and GraphQL at `/api/graphql`. */
export function createGithub(tables: GeneratedTables, graphqlIndex: GraphqlSchemaIndex): GithubConnector {
  const restTrie = compileRoutes(templates(tables.githubRest.operations));
  const enterpriseTrie = compileRoutes([...templates(tables.githubRest.operations), ...templates(tables.githubRest.enterpriseOnly)]);
  return {
    restTrie,
    enterpriseTrie,
    classify(ctx, connector, enterprise) {
      if (ctx.path.problem) return untrustedPathAction(ctx, connector, 'github');
      const graphqlPath = enterprise ? ['api', 'graphql'] : ['graphql'];
      const segs = ctx.path.segments;
      if (segs.length === graphqlPath.length && stripBase(segs, graphqlPath)?.length === 0) {
        const action = classifyGraphql(ctx, connector, graphqlIndex);
        if (action) return action;
      }
      return classifyRest(ctx, {
        connector,
        provider: 'github',
        trie: enterprise ? enterpriseTrie : restTrie,
        ...(enterprise ? { basePath: ['api', 'v3'] } : {}),
        numericPath: (n) => n.endsWith('_number') || n.endsWith('_id'),
        resourceOf: githubResource,
      });
    },
  };
}
