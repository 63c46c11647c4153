/**
 * The root of every error TameFlare throws on purpose.
 *
 * Each error has a stable `code` (`TF_ERR_*`) that callers match on, as fastify does with
 * `FST_ERR_*`, and keeps the underlying failure in the standard `cause`. Identity is checked
 * structurally through a registered symbol, so it survives two copies of a library and
 * errors that crossed a process boundary as JSON (see {@link isTameFlareError}).
 */
export class TameFlareError extends Error {
  /** Stable machine-readable code, e.g. `TF_ERR_CONTRACT_SCHEMA`. */
  readonly code: string;
  /** Structured context for logs and API answers. Never holds a credential. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    this.name = new.target.name;
    Object.defineProperty(this, TAMEFLARE_ERROR, { value: true, enumerable: false });
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

const TAMEFLARE_ERROR = Symbol.for('tameflare.error');

/** True for any {@link TameFlareError}, optionally with the given code, from any copy of this library. */
export function isTameFlareError(err: unknown, code?: string): err is TameFlareError {
  if (typeof err !== 'object' || err === null || !(TAMEFLARE_ERROR in err)) return false;
  return code === undefined || (err as unknown as TameFlareError).code === code;
}

/** Codes raised by this library when an event or message breaks its contract. */
export const ContractErrorCode = {
  /** The event type is not in the catalog. */
  UnknownType: 'TF_ERR_CONTRACT_UNKNOWN_TYPE',
  /** The event type is known but this schema version is not. */
  UnknownVersion: 'TF_ERR_CONTRACT_UNKNOWN_VERSION',
  /** The envelope or its data does not match the schema. */
  Schema: 'TF_ERR_CONTRACT_SCHEMA',
  /** The payload is not JSON at all. */
  Malformed: 'TF_ERR_CONTRACT_MALFORMED',
} as const;

/** An event or command payload that breaks the contract: unknown type, unknown version, or schema violation. */
export class ContractError extends TameFlareError {}
