import type { Action } from '@tameflare/contracts';
import type { RequestContext } from '../context.ts';
import type { GeneratedTables } from '../generated-tables.ts';
import type { RouteTrie } from '../router/route-trie.ts';
import { classifyRest, type RestRoute } from './rest.ts';
import { compileSdkTable } from './sdk-table.ts';

/** Names the TameFlare vocabulary uses where the SDK-derived one is longer. */
const OPENAI_ALIASES: Record<string, string> = {
  'chat.completions.create': 'openai.chat.create',
  'files.create': 'openai.file.upload',
};

export interface LlmConnector {
  trie: RouteTrie<RestRoute>;
  classify(ctx: RequestContext, connector: string): Action;
}

const firstPathId = (p: Record<string, unknown>, route: RestRoute | null): string | null => {
  if (!route) return null;
  for (const [k, v] of Object.entries(p)) if (/(ID|_id|Id)$/.test(k) && typeof v === 'string') return v;
  return null;
};

function create(provider: string, ops: GeneratedTables['openai']['operations'], aliases?: Record<string, string>): LlmConnector {
  const trie = compileSdkTable(ops, { provider, ...(aliases ? { aliases } : {}) });
  return { trie, classify: (ctx, connector) => classifyRest(ctx, { connector, provider, trie, resourceOf: firstPathId }) };
}

/** OpenAI: every method of the official SDK (generated from OpenAI's OpenAPI description); `model` and `stream` come from the JSON body. */
export const createOpenai = (t: GeneratedTables): LlmConnector => create('openai', t.openai.operations, OPENAI_ALIASES);

/** Anthropic: every method of the official SDK (generated from Anthropic's OpenAPI description). */
export const createAnthropic = (t: GeneratedTables): LlmConnector => create('anthropic', t.anthropic.operations);
