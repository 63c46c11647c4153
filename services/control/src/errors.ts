import { ControlErrorCode, TameFlareError } from '@tameflare/contracts';

export { ControlErrorCode };
export type ControlErrorCodeValue = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

/** A refusal or failure of a control command; the code travels to the caller as a RemoteError. */
export class ControlError extends TameFlareError {}

export function controlError(code: ControlErrorCodeValue, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): ControlError {
  return new ControlError(code, message, options);
}
