import { TameFlareError } from '@tameflare/contracts';

/** Codes raised while bringing a local stack up, down, or reading its state. */
export const StackErrorCode = {
  /** No stack is running in the state directory (no stack file, or its processes are gone). */
  NotRunning: 'TF_ERR_STACK_NOT_RUNNING',
  /** Another `tf up` or `tf down` holds the state directory's lock. */
  Locked: 'TF_ERR_STACK_LOCKED',
  /** A process exited or never became ready; details name it and the tail of its log. */
  StartFailed: 'TF_ERR_STACK_START_FAILED',
  /** `nats-server` is not installed where expected. */
  NatsMissing: 'TF_ERR_STACK_NATS_MISSING',
  /** PostgreSQL cannot be reached, or the database cannot be created or migrated. */
  Database: 'TF_ERR_STACK_DATABASE',
  /** A secret file in the state directory is readable by others. */
  InsecureFile: 'TF_ERR_STACK_INSECURE_FILE',
  /** A port asked for explicitly is taken. */
  PortInUse: 'TF_ERR_STACK_PORT_IN_USE',
  /** The state directory holds something unreadable (a corrupt stack file). */
  State: 'TF_ERR_STACK_STATE',
  /** First-start setup (gateway, policy, API token) failed. */
  Bootstrap: 'TF_ERR_STACK_BOOTSTRAP',
} as const;
export type StackErrorCodeValue = (typeof StackErrorCode)[keyof typeof StackErrorCode];

/** A failure of the local stack; `hint` says what the user can do about it. */
export class StackError extends TameFlareError {
  readonly hint: string | undefined;
  constructor(code: StackErrorCodeValue, message: string, options?: { cause?: unknown; details?: Record<string, unknown>; hint?: string }) {
    super(code, message, options);
    this.hint = options?.hint;
  }
}
