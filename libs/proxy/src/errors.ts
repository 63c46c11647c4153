import { TameFlareError } from '@tameflare/contracts';

/** Codes raised by the proxy engine. */
export const ProxyErrorCode = {
  /** The proxy was configured with options it cannot run with. */
  Config: 'TF_ERR_PROXY_CONFIG',
  /** The local CA could not be created or loaded. */
  Ca: 'TF_ERR_PROXY_CA',
  /** The CA key file is readable by other users; the proxy refuses to use it. */
  CaKeyPermissions: 'TF_ERR_PROXY_CA_KEY_PERMISSIONS',
  /** A leaf certificate was requested for a name that is not a hostname or IP address. */
  BadHostname: 'TF_ERR_PROXY_BAD_HOSTNAME',
  /** The egress guard refused a destination (private, loopback, metadata... address). */
  EgressDenied: 'TF_ERR_PROXY_EGRESS_DENIED',
  /** The destination name did not resolve. */
  Dns: 'TF_ERR_PROXY_DNS',
} as const;

/** An error raised by the proxy engine; `code` is one of {@link ProxyErrorCode}. */
export class ProxyError extends TameFlareError {}
