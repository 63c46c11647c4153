import { ControlErrorCode, isTameFlareError, TameFlareError } from '@tameflare/contracts';
import { isMessagingError, MessagingErrorCode } from '@tameflare/messaging';
import { StackError, StackErrorCode } from '@tameflare/stack';

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

const userStackCodes: string[] = [StackErrorCode.NotRunning, StackErrorCode.Locked, StackErrorCode.PortInUse, StackErrorCode.InsecureFile, StackErrorCode.NatsMissing];
const userControlCodes: string[] = [
  ControlErrorCode.Invalid,
  ControlErrorCode.UnknownGateway,
  ControlErrorCode.GatewayExists,
  ControlErrorCode.UnknownRun,
  ControlErrorCode.UnknownConnector,
  ControlErrorCode.UnknownToken,
  ControlErrorCode.KillSwitchEngaged,
  ControlErrorCode.KillSwitchNotEngaged,
];

/** Hints for errors other services answer with. */
const hints: Record<string, string> = {
  [ControlErrorCode.UnknownGateway]: 'tf up creates the gateway "default"; use --gateway default or create the gateway first',
  [ControlErrorCode.KillSwitchEngaged]: 'release it first with tf kill --release and the same scope',
  [ControlErrorCode.KillSwitchNotEngaged]: 'tf status lists what is engaged',
  [ControlErrorCode.Unavailable]: 'check tf status; the event store or NATS may be down',
  [ControlErrorCode.Conflict]: 'another change happened at the same time; run the command again',
  [MessagingErrorCode.NoResponders]: 'a service is not running: check tf status',
  [MessagingErrorCode.Timeout]: 'a service did not answer in time: check tf status',
  [MessagingErrorCode.Unavailable]: 'NATS is unreachable: check tf status',
  [MessagingErrorCode.PermissionDenied]: 'the NATS credentials in the state directory were refused; restart with tf down && tf up',
};

/** The exit code, message and hint for anything a command threw. */
export function describeError(err: unknown): { exitCode: number; code: string; message: string; hint: string | undefined } {
  if (err instanceof CliError) return { exitCode: err.exitCode, code: err.code, message: err.message, hint: err.hint };
  if (err instanceof StackError) {
    return { exitCode: userStackCodes.includes(err.code) ? ExitCode.User : ExitCode.System, code: err.code, message: err.message, hint: err.hint };
  }
  if (isTameFlareError(err)) {
    const user = userControlCodes.includes(err.code);
    const messaging = isMessagingError(err);
    return { exitCode: user ? ExitCode.User : ExitCode.System, code: err.code, message: err.message, hint: hints[err.code] ?? (messaging ? 'check tf status' : undefined) };
  }
  const e = err as Error;
  return { exitCode: ExitCode.System, code: 'TF_ERR_INTERNAL', message: e?.message ?? String(err), hint: 'this is a bug in tf; please report it with the command you ran' };
}
