import { AuditError, AuditErrorCode } from '../errors.ts';

/** A glob as SQL: a LIKE prefix an index can range-scan, and an exact regular expression. */
export interface SqlGlob {
  /** Exact value when the glob has no `*`. */
  literal: string | null;
  /** `LIKE` pattern for the literal prefix (`github.repo.%`), or null when the glob starts with `*`. */
  likePrefix: string | null;
  /** True when `likePrefix` alone is exact (`github.**`), so no regular expression is needed. */
  likeIsExact: boolean;
  /** PostgreSQL ARE for the whole glob. */
  regex: string;
  /** `github.repo.*`: every type whose parent (all but the last segment) is this. */
  parent: string | null;
  /** `**.delete`: every type whose last segment is this. */
  verb: string | null;
}

const ALLOWED: Record<'action' | 'resource', RegExp> = {
  action: /^[A-Za-z0-9_.:/*-]{1,256}$/,
  resource: /^[^\u0000-\u001f]{1,500}$/,
};

/**
 * Translates a glob with the policy language's meaning (libs/policy-engine): `*` stays within one
 * segment (`.` for action types, `/` for resources), `**` crosses segments.
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_FILTER` for characters an action type never has.
 */
export function globToSql(pattern: string, kind: 'action' | 'resource'): SqlGlob {
  if (!ALLOWED[kind].test(pattern)) {
    throw new AuditError(AuditErrorCode.InvalidFilter, `invalid ${kind === 'action' ? 'action type' : 'resource'} glob ${JSON.stringify(pattern.slice(0, 80))}: use letters, digits, . _ : / - and * or **`);
  }
  const sep = kind === 'action' ? '.' : '/';
  const firstStar = pattern.indexOf('*');
  const none = { likeIsExact: false, parent: null, verb: null };
  if (firstStar < 0) return { ...none, literal: pattern, likePrefix: null, regex: '^' + escapeAre(pattern) + '$' };
  const prefix = pattern.slice(0, firstStar);
  const rest = pattern.slice(firstStar);
  const parent = kind === 'action' && rest === '*' && prefix.endsWith('.') && prefix.length > 1 ? prefix.slice(0, -1) : null;
  const verb = kind === 'action' && prefix === '' && /^\*\*\.[^*.]+$/.test(rest) ? rest.slice(3) : null;
  const likeIsExact = /^\*\*+$/.test(rest);
  let regex = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c !== '*') {
      regex += escapeAre(c);
      continue;
    }
    let j = i;
    while (pattern[j + 1] === '*') j++;
    regex += j > i ? '.*' : `[^${escapeAre(sep)}]*`;
    i = j;
  }
  return { literal: null, likePrefix: prefix === '' ? null : escapeLike(prefix) + '%', likeIsExact: likeIsExact && prefix !== '', regex: regex + '$', parent, verb };
}

function escapeAre(s: string): string {
  // Only ASCII punctuation: a backslash before a letter (any script) would start an escape.
  return s.replace(/[\u0000-\u002f\u003a-\u0040\u005b-\u005e\u0060\u007b-\u007f]/g, (c) => '\\' + c);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
