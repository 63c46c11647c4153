import type { Action, CredentialInjection } from '@tameflare/contracts';

/** One outbound request as the ingress saw it. */
export interface ClassifyInput {
  /** Host name as the agent addressed it (any case; a trailing dot is ignored). */
  host: string;
  port?: number;
  method: string;
  /** The request path, still percent-encoded. A `?query` suffix is split off if present. */
  path: string;
  /** The raw query string, without `?`. */
  query?: string;
  /** Header names in lowercase, as Node gives them. */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** The bytes read, at most the parse limit; null when there is no body. */
  body?: Uint8Array | null;
  /** True when the body was longer than the parse limit and only a prefix was read. */
  bodyTruncated?: boolean;
}

/** What the ingress needs to know about the connector serving a host. */
export interface ConnectorInfo {
  id: string;
  /** Built-in kind (`github`, `stripe`, `slack`, `openai`, `anthropic`, `mcp`, `http`, `webhook`) or `custom`. */
  kind: string;
  /** First segment of the action types this connector produces. */
  provider: string;
  /** How the credential goes on the upstream request; null when the connector injects none. */
  injection: CredentialInjection | null;
  /** Name of the vault secret to inject, when configured. */
  secretName: string | null;
  /** True when the ingress must terminate TLS to read (and classify) requests; false only for a configured pass-through. */
  intercept: boolean;
  domains: readonly string[];
}

export interface Classifier {
  /** `CLASSIFIER_VERSION` plus a digest of the generated route tables. */
  readonly version: string;
  /** The connector serving `host` (optionally `host:port`), or null: no connector, denied by default. */
  connectorFor(host: string, port?: number): ConnectorInfo | null;
  /** Classifies one request. Never throws on request data. */
  classify(request: ClassifyInput): Action;
  /** Routes compiled per connector id, for reports and benchmarks. */
  routeCounts(): Record<string, number>;
}
