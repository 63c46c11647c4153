import { bundleHash, canonicalSource } from './compile-bundle.ts';
import type { PolicyIssue } from './errors.ts';
import { parseBundle, type ParseOptions } from './parse-bundle.ts';

/** The result of `tf policy check`. JSON-serializable (`--json`). */
export interface CheckReport {
  ok: boolean;
  file: string;
  /** SHA-256 of the canonical source; what `apply` would record. */
  hash: string;
  /** Every problem, in file order; empty when ok. */
  issues: PolicyIssue[];
  /** What the bundle contains, when ok. */
  summary: {
    name: string | null;
    rules: number;
    byEffect: { allow: number; deny: number; require_approval: number };
    aggregates: string[];
  } | null;
}

/** Validates a bundle without compiling it for evaluation. Never throws for an invalid bundle. */
export function checkBundle(source: string, options: ParseOptions = {}): CheckReport {
  const file = options.fileName ?? 'policy.yaml';
  const { parsed, issues } = parseBundle(canonicalSource(source), { ...options, fileName: file });
  const hash = bundleHash(source);
  if (!parsed) return { ok: false, file, hash, issues, summary: null };
  const byEffect = { allow: 0, deny: 0, require_approval: 0 };
  for (const r of parsed.document.rules) byEffect[r.effect]++;
  return {
    ok: true,
    file,
    hash,
    issues: [],
    summary: { name: parsed.document.name, rules: parsed.document.rules.length, byEffect, aggregates: parsed.document.aggregates.map((a) => a.name) },
  };
}
