import { TameFlareError } from '@tameflare/contracts';

/** Stable codes raised by the policy engine. */
export const PolicyErrorCode = {
  /** A bundle failed validation: invalid YAML, unknown field, bad glob, CEL that does not compile... */
  Invalid: 'TF_ERR_POLICY_INVALID',
  /** A test-case file for `tf policy test` failed validation. */
  TestsInvalid: 'TF_ERR_POLICY_TESTS_INVALID',
  /** A condition failed at run time (missing parameter, wrong type...): the request was denied. */
  Evaluation: 'TF_ERR_POLICY_EVALUATION',
  /** A session aggregate a rule needs was not supplied to the evaluator: the request was denied. */
  SessionMissing: 'TF_ERR_POLICY_SESSION_MISSING',
  /** The session history of one agent is larger than the engine keeps: the request was denied. */
  SessionOverflow: 'TF_ERR_POLICY_SESSION_OVERFLOW',
} as const;

/** One problem in a policy or test file, located to the character. JSON-serializable. */
export interface PolicyIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
  /** Where in the document, e.g. `rules[2].match.actions[0]`; empty for the document itself. */
  path: string;
}

/** `file:line:col: message`, the form editors and CI logs understand. */
export function formatIssue(issue: PolicyIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}

/**
 * A bundle (or test file) that failed validation. `issues` lists every problem found, not only
 * the first; the message has one `file:line:col: message` line per issue.
 */
export class PolicyInvalidError extends TameFlareError {
  readonly issues: readonly PolicyIssue[];

  constructor(issues: PolicyIssue[], options?: { code?: string; cause?: unknown }) {
    const code = options?.code ?? PolicyErrorCode.Invalid;
    const what = code === PolicyErrorCode.TestsInvalid ? 'policy test file' : 'policy bundle';
    const head = `${what} is invalid (${issues.length} error${issues.length === 1 ? '' : 's'})`;
    super(code, [head, ...issues.map(formatIssue)].join('\n'), {
      cause: options?.cause,
      details: { issues },
    });
    this.issues = issues;
  }
}
