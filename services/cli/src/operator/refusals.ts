import { isTameFlareError } from '@tameflare/contracts';
import { CliError, ExitCode } from '../errors.ts';

/** A hint for a refusal, or a function of the refusal's details when it needs them. */
export type RefusalHint = string | ((details: Record<string, unknown>) => string | undefined);

/**
 * Runs a request whose refusals (by code) are the user's to fix, not a system fault: each listed
 * code becomes a CliError with exit 1 and its hint; anything else propagates unchanged (exit 2
 * through the shared error handler).
 */
export async function refusalsAreUserErrors<T>(work: Promise<T>, hints: Record<string, RefusalHint>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isTameFlareError(err) && Object.hasOwn(hints, err.code)) {
      const h = hints[err.code]!;
      const details = err.details ?? {};
      const hint = typeof h === 'function' ? h(details) : h;
      throw new CliError(err.code, err.message, { exitCode: ExitCode.User, cause: err, details, ...(hint ? { hint } : {}) });
    }
    throw err;
  }
}
