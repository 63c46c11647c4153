/**
 * The whole stack for the dashboard's browser tests: the e2e harness's `startTfStack` (every
 * service as its own process, as `tf up` starts them, the audit API serving the built
 * dashboard, fake Stripe and OpenAI over HTTPS with their credentials in the vault), plus what
 * the dashboard tests need on top: a policy that also allows chat completions (a long stream to
 * cut), API tokens of each role, and agent runs.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Commands, type PublishPolicyReply, type RunStartReply } from '@tameflare/contracts';
import { REPO_ROOT, startTfStack, type TfStack } from '../harness/index.ts';

export interface AgentRun {
  runId: string;
  agentId: string;
  /** `http://tf:<token>@127.0.0.1:<port>`: what `tf run` hands the agent. */
  proxyUrl: string;
}

export interface GraphQLAnswer<T> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export interface DashboardStack {
  tf: TfStack;
  /** `http://127.0.0.1:<port>/`: the dashboard. */
  baseUrl: string;
  tokens: { admin: string; approver: string; viewer: string };
  /** Registers an agent run through the control service, as `tf run` does for `command`. */
  startRun(agentName: string, command: string): Promise<AgentRun>;
  /** Publishes a new policy version to the default gateway; returns its version. */
  publishPolicy(source: string, fileName: string): Promise<number>;
  /** POSTs a GraphQL operation with a token, returning the status and body as they are. */
  graphql<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer<T>>;
  stop(): Promise<void>;
}

/** infra/policies/default.yaml with one more rule: agents may ask the chat API for a (streamed) answer. */
export function dashboardPolicy(): string {
  const base = readFileSync(join(REPO_ROOT, 'infra', 'policies', 'default.yaml'), 'utf8');
  return `${base.trimEnd()}\n\n  - id: allow-chat\n    effect: allow\n    match:\n      actions: [openai.chat.create]\n    reason: Chat completions are allowed\n`;
}

export async function startDashboardStack(): Promise<DashboardStack> {
  const tf = await startTfStack({ providers: ['stripe', 'openai'], policy: dashboardPolicy(), ingressEnv: { TF_INGRESS_APPROVAL_POLL_MS: '500ms' } });
  try {
    const graphqlUrl = tf.info.graphqlUrl;
    const graphql: DashboardStack['graphql'] = async (token, query, variables = {}) => {
      const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, body: (await res.json()) as never };
    };
    const issue = async (name: string, role: 'VIEWER' | 'APPROVER') =>
      (await tf.graphql<{ issueApiToken: { token: string } }>('mutation ($n: String!, $r: Role!) { issueApiToken(name: $n, role: $r) { token } }', { n: name, r: role })).issueApiToken.token;
    const tokens = { admin: tf.adminToken, approver: await issue('alice', 'APPROVER'), viewer: await issue('victor', 'VIEWER') };
    return {
      tf,
      baseUrl: graphqlUrl.replace(/graphql$/, ''),
      tokens,
      async startRun(agentName, command) {
        const run = await tf.bus.request<RunStartReply>(Commands.runStart, { agentName, gatewayId: 'default', command, hostname: hostname(), pid: process.pid, startedBy: 'e2e' });
        const proxy = new URL(tf.info.proxies[0]!.url);
        proxy.username = 'tf';
        proxy.password = run.token;
        return { runId: run.runId, agentId: run.agentId, proxyUrl: proxy.toString().replace(/\/$/, '') };
      },
      async publishPolicy(source, fileName) {
        return (await tf.bus.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId: 'default', source, fileName, publishedBy: 'e2e' }, { timeoutMs: 30_000 })).version;
      },
      graphql,
      stop: () => tf.stop(),
    };
  } catch (err) {
    await tf.stop();
    throw err;
  }
}
