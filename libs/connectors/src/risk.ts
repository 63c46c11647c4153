import type { Risk } from '@tameflare/contracts';

const RANK: Record<Risk, number> = { read: 0, write: 1, destructive: 2 };

export function maxRisk(a: Risk, b: Risk): Risk {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Risk implied by the HTTP method alone: safe methods read, DELETE destroys, the rest write. */
export function riskOfMethod(method: string): Risk {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'DELETE') return 'destructive';
  return 'write';
}

const DESTRUCTIVE_WORDS = new Set([
  'delete', 'del', 'remove', 'destroy', 'purge', 'erase', 'wipe', 'drop', 'truncate', 'revoke', 'archive', 'transfer', 'kick', 'terminate', 'kill', 'uninstall', 'reset',
]);
const READ_WORDS = new Set([
  'get', 'list', 'retrieve', 'read', 'search', 'fetch', 'find', 'lookup', 'query', 'describe', 'show', 'view', 'info', 'history', 'replies', 'count', 'check', 'exists', 'preview', 'members',
]);

/** Splits `createBalanceTransaction`, `delete-ref`, `delete_file`, `users.lookupByEmail` into lowercase words. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when any word of the name is a destructive verb (`deleteRef`, `conversations.archive`, `delete_branch`). */
export function soundsDestructive(name: string): boolean {
  return wordsOf(name).some((w) => DESTRUCTIVE_WORDS.has(w));
}

/** True when the name's first word is a reading verb (`list_issues`, `getFile`, `history`). */
export function soundsRead(name: string): boolean {
  const first = wordsOf(name)[0];
  return first !== undefined && READ_WORDS.has(first);
}

/** Risk from an operation name: destructive verbs anywhere win, then a reading first word, else write. */
export function riskOfName(name: string): Risk {
  if (soundsDestructive(name)) return 'destructive';
  return soundsRead(name) ? 'read' : 'write';
}
