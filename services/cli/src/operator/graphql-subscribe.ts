import { readAdminToken } from '@tameflare/stack';
import { CliError, ExitCode } from '../errors.ts';

/**
 * A GraphQL subscription over Server-Sent Events (graphql-yoga's default transport), with the
 * same API token the CLI's GraphQL client uses. Yields each `data` payload until the server
 * completes the stream or `signal` aborts (then it returns quietly).
 */
export async function* subscribeGraphql<T>(o: {
  url: string;
  env: Record<string, string | undefined>;
  stateDir: string | undefined;
  query: string;
  variables?: Record<string, unknown>;
  signal: AbortSignal;
}): AsyncGenerator<T> {
  const token = o.env.TF_API_TOKEN || readAdminToken(o.stateDir);
  if (!token) throw new CliError('TF_ERR_CLI_NO_API_TOKEN', 'no API token for the audit API', { hint: 'set TF_API_TOKEN, or run tf up once to create the bootstrap admin token' });
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: o.query, variables: o.variables ?? {} }),
      signal: o.signal,
    });
  } catch (cause) {
    if (o.signal.aborted) return;
    throw new CliError('TF_ERR_CLI_GRAPHQL_UNREACHABLE', `cannot reach the audit API at ${o.url}`, { exitCode: ExitCode.System, cause, hint: 'check tf status' });
  }
  if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const body = (await res.json().catch(() => null)) as { errors?: { message: string }[] } | null;
    const message = body?.errors?.[0]?.message ?? `the audit API answered HTTP ${res.status} to a subscription`;
    throw new CliError('TF_ERR_CLI_GRAPHQL', message, { exitCode: res.status >= 500 ? ExitCode.System : ExitCode.User, hint: res.status === 401 ? 'check TF_API_TOKEN' : 'check tf status' });
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event === 'complete') return;
        if (!data.length) continue;
        const payload = JSON.parse(data.join('\n')) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
        if (payload.errors?.length) {
          const e = payload.errors[0]!;
          throw new CliError(e.extensions?.code ?? 'TF_ERR_CLI_GRAPHQL', e.message, { exitCode: /UNAVAILABLE|INTERNAL/.test(e.extensions?.code ?? '') ? ExitCode.System : ExitCode.User });
        }
        if (payload.data !== undefined) yield payload.data;
      }
    }
  } catch (err) {
    if (o.signal.aborted) return;
    if (err instanceof CliError) throw err;
    throw new CliError('TF_ERR_CLI_GRAPHQL_STREAM', `the audit API subscription ended: ${(err as Error).message}`, { exitCode: ExitCode.System, cause: err, hint: 'check tf status' });
  }
  if (!o.signal.aborted) throw new CliError('TF_ERR_CLI_GRAPHQL_STREAM', 'the audit API closed the subscription', { exitCode: ExitCode.System, hint: 'check tf status' });
}
