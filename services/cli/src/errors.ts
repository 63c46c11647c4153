import { TameFlareError } from '@tameflare/contracts';

/** The exit codes of every `tf` command (docs/cli.md). */
export const ExitCode = {
  Ok: 0,
  /** A user error: a bad flag, an unknown gateway, the stack not running. One line and a hint. */
  User: 1,
  /** A system fault: a service unreachable or failing, a partial effect. */
  System: 2,
  /** `tf run`: the command was found but cannot be executed (as a shell does). */
  NotExecutable: 126,
  /** `tf run`: the command was not found (as a shell does). */
  NotFound: 127,
} as const;

/**
 * What a command throws to stop with a message: `exitCode` 1 for a user mistake (with a hint)
 * and 2 for a system fault.
 */
export class CliError extends TameFlareError {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { exitCode?: number; hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.exitCode = options.exitCode ?? ExitCode.User;
    this.hint = options.hint;
  }
}

/** A user mistake: exit 1 with a one-line reason and a hint. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError('TF_ERR_CLI_USAGE', message, hint === undefined ? {} : { hint });
}

// Codes are matched as strings (they are stable contracts) so this module loads nothing heavy:
// every command, even `tf --help`, imports it.
const userStackCodes = new Set(['TF_ERR_STACK_NOT_RUNNING', 'TF_ERR_STACK_LOCKED', 'TF_ERR_STACK_PORT_IN_USE', 'TF_ERR_STACK_INSECURE_FILE', 'TF_ERR_STACK_NATS_MISSING']);
/** Control-service refusals the user can fix (the others, UNAVAILABLE and CONFLICT, are faults). */
const userControlCodes = new Set([
  'TF_ERR_CONTROL_INVALID',
  'TF_ERR_CONTROL_UNKNOWN_GATEWAY',
  'TF_ERR_CONTROL_GATEWAY_EXISTS',
  'TF_ERR_CONTROL_UNKNOWN_RUN',
  'TF_ERR_CONTROL_UNKNOWN_CONNECTOR',
  'TF_ERR_CONTROL_UNKNOWN_TOKEN',
  'TF_ERR_CONTROL_KILLSWITCH_ENGAGED',
  'TF_ERR_CONTROL_KILLSWITCH_NOT_ENGAGED',
]);

/** Hints for errors other services answer with. */
const hints: Record<string, string> = {
  TF_ERR_CONTROL_UNKNOWN_GATEWAY: 'tf up creates the gateway "default"; use --gateway default or create the gateway first',
  TF_ERR_CONTROL_KILLSWITCH_ENGAGED: 'release it first with tf kill --release and the same scope',
  TF_ERR_CONTROL_KILLSWITCH_NOT_ENGAGED: 'tf status lists what is engaged',
  TF_ERR_CONTROL_UNAVAILABLE: 'check tf status; the event store or NATS may be down',
  TF_ERR_CONTROL_CONFLICT: 'another change happened at the same time; run the command again',
  TF_ERR_NATS_NO_RESPONDERS: 'a service is not running: check tf status',
  TF_ERR_NATS_TIMEOUT: 'a service did not answer in time: check tf status',
  TF_ERR_NATS_UNAVAILABLE: 'NATS is unreachable: check tf status',
  TF_ERR_NATS_PERMISSION_DENIED: 'the NATS credentials in the state directory were refused; restart with tf down && tf up',
};

/** The fields of a TameFlareError from any library, read structurally. */
interface Coded {
  code: string;
  message: string;
  hint?: string;
}
const isCoded = (err: unknown): err is Coded => typeof err === 'object' && err !== null && typeof (err as Coded).code === 'string' && (err as Coded).code.startsWith('TF_ERR_');

/** The exit code, message and hint for anything a command threw. */
export function describeError(err: unknown): { exitCode: number; code: string; message: string; hint: string | undefined } {
  if (err instanceof CliError) return { exitCode: err.exitCode, code: err.code, message: err.message, hint: err.hint };
  if (isCoded(err)) {
    const { code } = err;
    const user = userStackCodes.has(code) || userControlCodes.has(code);
    const messaging = code.startsWith('TF_ERR_NATS_') || code.startsWith('TF_ERR_JETSTREAM');
    return { exitCode: user ? ExitCode.User : ExitCode.System, code, message: err.message, hint: err.hint ?? hints[code] ?? (messaging ? 'check tf status' : undefined) };
  }
  const e = err as Error;
  return { exitCode: ExitCode.System, code: 'TF_ERR_INTERNAL', message: e?.message ?? String(err), hint: 'this is a bug in tf; please report it with the command you ran' };
}
