import { TameFlareError } from '@tameflare/contracts';

export const ConfigErrorCode = 'TF_ERR_CONFIG';

/** One bad or missing setting, named the way the operator sets it. */
export interface ConfigProblem {
  /** The environment variable (or `TF_CONFIG_FILE` for problems with the file itself). */
  variable: string;
  /** Where in the config file the same setting lives, e.g. `nats.url`. */
  path: string;
  /** What is wrong and what was expected; never the value of a secret. */
  message: string;
}

/**
 * Every problem found in the configuration at once, so an operator fixes them in one go.
 * The message has one line per problem: `TF_HEALTH_PORT: expected an integer from 1 to 65535, got "http"`.
 */
export class ConfigError extends TameFlareError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[], options?: { cause?: unknown }) {
    super(ConfigErrorCode, `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`, {
      ...(options?.cause !== undefined ? { cause: options.cause } : {}),
      details: { problems },
    });
    this.problems = problems;
  }
}
