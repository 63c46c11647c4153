import { CliError, ExitCode } from './errors.ts';

/** A GraphQL client for the audit API, authenticated with an API token. */
export interface GraphqlClient {
  /** Runs a query or mutation; GraphQL errors become a CliError (exit 1 for refusals, 2 for faults). */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/**
 * The audit API of the running stack (or `TF_GRAPHQL_URL`), with `TF_API_TOKEN` or else the
 * bootstrap admin token `tf up` left in the state directory. Commands that act as a person
 * (approve, deny) go through here, so the API records who did it with which role.
 */
export function graphqlClient(options: { stateDir: string | undefined; env: Record<string, string | undefined> }): GraphqlClient {
  let endpoint: Promise<{ url: string; token: string }> | undefined;
  // Resolved on first use: the stack's address and token come from the state directory.
  const resolve = async () => {
    const stack = await import('@tameflare/stack/client');
    const url = options.env.TF_GRAPHQL_URL || stack.runningStack(options.stateDir).graphqlUrl;
    const token = options.env.TF_API_TOKEN || stack.readAdminToken(options.stateDir);
    if (!token) throw new CliError('TF_ERR_CLI_NO_API_TOKEN', 'no API token for the audit API', { hint: 'set TF_API_TOKEN, or run tf up once to create the bootstrap admin token' });
    return { url, token };
  };
  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      endpoint ??= resolve();
      const { url, token } = await endpoint;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw new CliError('TF_ERR_CLI_GRAPHQL_UNREACHABLE', `cannot reach the audit API at ${url}`, { exitCode: ExitCode.System, cause, hint: 'check tf status' });
      }
      const body = (await res.json().catch(() => null)) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } | null;
      if (body?.errors?.length) {
        const e = body.errors[0]!;
        const code = e.extensions?.code ?? 'TF_ERR_CLI_GRAPHQL';
        const user = res.status < 500 && !/UNAVAILABLE|INTERNAL/.test(code);
        throw new CliError(code, e.message, { exitCode: user ? ExitCode.User : ExitCode.System });
      }
      if (!res.ok || !body?.data) {
        throw new CliError('TF_ERR_CLI_GRAPHQL', `the audit API answered HTTP ${res.status}`, { exitCode: ExitCode.System, hint: 'check tf status' });
      }
      return body.data;
    },
  };
}
