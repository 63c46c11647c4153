import { TameFlareError } from '@tameflare/contracts';

/** Error codes raised by the connectors library. */
export const ConnectorErrorCode = {
  /** A connector definition (YAML, JSON or KV entry) is invalid; the message names the field. */
  Config: 'TF_ERR_CONNECTOR_CONFIG',
  /** The generated route tables are missing or unreadable: the library was not built. */
  NotBuilt: 'TF_ERR_CONNECTORS_NOT_BUILT',
} as const;

/** A connector definition that cannot be used. `details.field` is the path of the bad field. */
export class ConnectorConfigError extends TameFlareError {}

/** The route tables generated at build time are missing. */
export class ConnectorsNotBuiltError extends TameFlareError {}

export function configError(field: string, problem: string, cause?: unknown): ConnectorConfigError {
  return new ConnectorConfigError(ConnectorErrorCode.Config, `invalid connector config: ${field}: ${problem}`, {
    details: { field },
    ...(cause === undefined ? {} : { cause }),
  });
}
