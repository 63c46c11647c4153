import type { Action, Risk } from '@tameflare/contracts';
import { addQueryParams, finishAction, type RequestContext } from '../context.ts';
import { addFlattened, note } from '../params.ts';
import { maxRisk, riskOfName } from '../risk.ts';
import { untrustedPathAction } from './rest.ts';

/** Methods that only read or set up a session. Every other method writes. */
const READ_METHODS = new Set([
  'initialize', 'ping', 'tools/list', 'resources/list', 'resources/read', 'resources/templates/list', 'prompts/list', 'prompts/get', 'completion/complete',
]);

export interface McpOptions {
  /** Endpoint path (`/mcp`); requests to other paths are `mcp.unknown`. Empty: any path. */
  path: string;
  readOnlyTools: ReadonlySet<string>;
  destructiveTools: ReadonlySet<string>;
}

const UNSAFE = /[^A-Za-z0-9_:/.-]/g;

interface Message {
  type: string;
  risk: Risk;
  tool?: string;
  args?: unknown;
  method?: string;
  uri?: unknown;
  name?: unknown;
}

function messageOf(m: unknown, o: McpOptions): Message {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { type: 'mcp.rpc.unknown', risk: 'destructive' };
  const msg = m as Record<string, unknown>;
  if (typeof msg.method !== 'string') {
    // A client's answer to a server request (sampling, elicitation): it hands data to the server.
    return { type: 'mcp.rpc.response', risk: 'write' };
  }
  const method = msg.method;
  const params = msg.params !== null && typeof msg.params === 'object' ? (msg.params as Record<string, unknown>) : {};
  if (method === 'tools/call') {
    if (typeof params.name !== 'string' || params.name === '') return { type: 'mcp.rpc.unknown', risk: 'destructive', method };
    const tool = params.name;
    const risk: Risk = o.destructiveTools.has(tool) ? 'destructive' : o.readOnlyTools.has(tool) ? 'read' : riskOfName(tool);
    return { type: `mcp.tool.${tool.replace(UNSAFE, '_').slice(0, 200)}`, risk, tool, args: params.arguments, method };
  }
  const risk: Risk = READ_METHODS.has(method) || method.startsWith('notifications/') ? 'read' : 'write';
  return { type: `mcp.rpc.${method.replace(UNSAFE, '_').slice(0, 200) || 'unknown'}`, risk, method, uri: params.uri, name: params.name };
}

/**
 * MCP over Streamable HTTP: a JSON-RPC `tools/call` is `mcp.tool.<name>` with its arguments as
 * parameters; any other method is `mcp.rpc.<method>`. The GET that opens the server's event
 * stream is `mcp.stream.open`; the DELETE that ends a session is `mcp.session.delete`.
 * A body that cannot be read is `mcp.rpc.unknown`, destructive.
 */
export function classifyMcp(ctx: RequestContext, connector: string, o: McpOptions): Action {
  if (ctx.path.problem) return untrustedPathAction(ctx, connector, 'mcp');
  if (o.path && `/${ctx.path.segments.join('/')}` !== o.path) {
    note(ctx.notes, 'no_route');
    return finishAction(ctx, { type: 'mcp.unknown', connector, resource: null, risk: ctx.method === 'GET' ? 'read' : 'write' });
  }
  if (ctx.method === 'GET') return finishAction(ctx, { type: 'mcp.stream.open', connector, resource: null, risk: 'read' });
  if (ctx.method === 'DELETE') return finishAction(ctx, { type: 'mcp.session.delete', connector, resource: null, risk: 'write' });
  const unknown = (reason: string) => {
    note(ctx.notes, reason);
    return finishAction(ctx, { type: 'mcp.rpc.unknown', connector, resource: null, risk: 'destructive' });
  };
  if (ctx.method !== 'POST') return unknown('no_route');
  if (ctx.body.problem) return unknown(ctx.body.problem);
  const doc = ctx.body.json;
  if (!doc) return unknown('invalid_json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc.text);
  } catch {
    return unknown('invalid_json');
  }
  const batch = Array.isArray(parsed);
  const messages = (batch ? (parsed as unknown[]) : [parsed]).map((m) => messageOf(m, o));
  if (messages.length === 0) return unknown('invalid_json');
  if (batch) note(ctx.notes, 'jsonrpc_batch');
  let best = messages[0]!;
  let risk = best.risk;
  for (const m of messages) {
    if (maxRisk(m.risk, best.risk) !== best.risk) best = m;
    risk = maxRisk(risk, m.risk);
  }
  if (batch) ctx.sink.add('methods', messages.map((m) => m.method ?? '').slice(0, 100));
  let resource: string | null = null;
  if (best.tool !== undefined) {
    ctx.sink.add('tool', best.tool);
    if (best.args !== undefined) addFlattened(ctx.sink, best.args, '', 3);
  } else {
    if (typeof best.uri === 'string') {
      ctx.sink.add('uri', best.uri);
      resource = best.uri;
    }
    if (typeof best.name === 'string') ctx.sink.add('name', best.name);
  }
  addQueryParams(ctx);
  return finishAction(ctx, { type: best.type, connector, resource, risk, ...(best.method ? { operationId: best.method } : {}) });
}
