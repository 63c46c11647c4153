import { join } from 'node:path';

/** Where the Node preload and the Python shim live. */
export const SHIMS = {
  nodePreload: join(import.meta.dirname, '..', 'shims', 'node', 'tf-preload.cjs'),
  pythonPath: join(import.meta.dirname, '..', 'shims', 'python'),
};

export interface AgentEnvOptions {
  /** `http://tf:<token>@127.0.0.1:<port>` */
  proxyUrl: string;
  /** The combined bundle: system roots plus the gateway CA. */
  caBundleFile: string;
  /** The gateway CA alone (NODE_EXTRA_CA_CERTS appends to Node's roots). */
  gatewayCaFile: string;
  /** NO_PROXY after governed hosts were removed. */
  noProxy: string;
  runId: string;
  agentId: string;
  gatewayId: string;
}

const quoteNodeOption = (path: string) => (/[\s"\\]/.test(path) ? `"${path.replace(/(["\\])/g, '\\$1')}"` : path);

/**
 * The agent's environment: the caller's, plus the proxy (both cases, every variable common
 * clients read), one CA bundle for every "replace the trust store" variable, the gateway CA for
 * NODE_EXTRA_CA_CERTS, the Node preload and the Python shim. Nothing else of TameFlare's (no NATS
 * password, no API token) is passed; the run token travels only inside the proxy URL.
 */
export function agentEnvironment(base: Record<string, string | undefined>, o: AgentEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'WS_PROXY', 'WSS_PROXY']) {
    env[name] = o.proxyUrl;
    env[name.toLowerCase()] = o.proxyUrl;
  }
  env.NO_PROXY = o.noProxy;
  env.no_proxy = o.noProxy;
  for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CARGO_HTTP_CAINFO', 'AWS_CA_BUNDLE', 'DENO_CERT', 'PERL_LWP_SSL_CA_FILE']) {
    env[name] = o.caBundleFile;
  }
  env.NODE_EXTRA_CA_CERTS = o.gatewayCaFile;
  env.NODE_USE_ENV_PROXY = '1';
  const preload = `--require ${quoteNodeOption(SHIMS.nodePreload)}`;
  const nodeOptions = env.NODE_OPTIONS ?? '';
  env.NODE_OPTIONS = nodeOptions.includes(SHIMS.nodePreload) ? nodeOptions : `${nodeOptions} ${preload}`.trim();
  env.GLOBAL_AGENT_HTTP_PROXY = o.proxyUrl;
  env.GLOBAL_AGENT_HTTPS_PROXY = o.proxyUrl;
  if (o.noProxy) env.GLOBAL_AGENT_NO_PROXY = o.noProxy;
  else delete env.GLOBAL_AGENT_NO_PROXY;
  const pythonPath = env.PYTHONPATH ?? '';
  env.PYTHONPATH = pythonPath.split(':').includes(SHIMS.pythonPath) ? pythonPath : [SHIMS.pythonPath, pythonPath].filter(Boolean).join(':');
  env.TF_ACTIVE = '1';
  env.TF_PROXY_URL = o.proxyUrl;
  env.TF_RUN_ID = o.runId;
  env.TF_AGENT_ID = o.agentId;
  env.TF_GATEWAY = o.gatewayId;
  return env;
}
