import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { CliError, ExitCode } from '../errors.ts';

/** Where Debian, Alpine and Fedora keep the system roots (the first that exists is used). */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

const pem = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

/**
 * One PEM bundle: the system roots (or Node's built-in list where the system has none) plus
 * the gateway CA. SSL_CERT_FILE and friends replace the trust store rather than add to it, so
 * pointing them at the gateway CA alone would break every host the gateway does not intercept.
 */
export function combinedCaBundle(gatewayCaFile: string, env: Record<string, string | undefined> = process.env): { pem: string; systemSource: string } {
  if (!existsSync(gatewayCaFile)) {
    throw new CliError('TF_ERR_CLI_NO_GATEWAY_CA', `the gateway CA ${gatewayCaFile} does not exist`, { exitCode: ExitCode.System, hint: 'the ingress creates it on its first start: check tf status' });
  }
  const gateway = pem(readFileSync(gatewayCaFile, 'utf8'));
  const systemFile = [env.TF_SYSTEM_CA_FILE, ...SYSTEM_BUNDLES].find((f) => f && existsSync(f));
  const system = systemFile ? pem(readFileSync(systemFile, 'utf8')) : rootCertificates.map(pem).join('');
  return { pem: `${system}\n# TameFlare gateway CA (${gatewayCaFile})\n${gateway}`, systemSource: systemFile ?? 'node:tls rootCertificates' };
}
