import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { ProxyError, ProxyErrorCode } from './errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

/** File names inside the state directory. */
export const CA_KEY_FILE = 'ca.key.pem';
export const CA_CERT_FILE = 'ca.cert.pem';

/** A leaf certificate for one host, signed by the local CA. */
export interface LeafCertificate {
  readonly host: string;
  readonly certPem: string;
  /** PEM of the leaf key (shared by every leaf of this CA instance; see research §2.1). */
  readonly keyPem: string;
  readonly notAfter: Date;
}

/** The local interception CA: its certificate (for clients to trust) and a leaf issuer. */
export interface CertificateAuthority {
  /** The CA certificate, PEM. Agents trust this (`tf run` puts it into their CA bundle). */
  readonly certPem: string;
  /** Where the CA certificate is stored. */
  readonly certPath: string;
  /** SHA-256 fingerprint of the CA certificate, `AA:BB:...`. */
  readonly fingerprint256: string;
  readonly notAfter: Date;
  /** Issues a short-lived P-256 leaf for `host` (a DNS name or an IP address). */
  issueLeaf(host: string): Promise<LeafCertificate>;
}

export interface LoadOrCreateCaOptions {
  /** Directory holding `ca.key.pem` (mode 0600) and `ca.cert.pem`. Created (0700) when missing. */
  stateDir: string;
  /** Lifetime of leaf certificates. Default 7 days; leaves are cached and reissued before they expire. */
  leafLifetimeMs?: number;
  /** Lifetime of a newly created CA. Default 10 years. */
  caLifetimeMs?: number;
  /** Common name of a newly created CA. */
  commonName?: string;
}

/**
 * Loads the CA from `stateDir`, or creates an ECDSA P-256 CA there on first start.
 *
 * The key file is written with mode 0600 and linked into place atomically, so replicas sharing
 * a state directory end up with one CA. A key file readable by group or others is refused
 * (`TF_ERR_PROXY_CA_KEY_PERMISSIONS`), as ssh does. The key is never logged or returned.
 */
export async function loadOrCreateCa(options: LoadOrCreateCaOptions): Promise<CertificateAuthority> {
  const dir = options.stateDir;
  const keyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, CA_CERT_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new ProxyError(ProxyErrorCode.Ca, `cannot create the CA state directory ${dir}`, { cause });
  }
  if (!existsSync(keyPath)) await createCaFiles(dir, keyPath, certPath, options);
  return await loadCa(keyPath, certPath, options.leafLifetimeMs ?? 7 * DAY);
}

async function createCaFiles(dir: string, keyPath: string, certPath: string, options: LoadOrCreateCaOptions): Promise<void> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cn = options.commonName ?? `TameFlare local CA (${osHostname()}) ${new Date(now).toISOString().slice(0, 10)}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [cn] }, { O: ['TameFlare'] }],
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + (options.caLifetimeMs ?? 3650 * DAY)),
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmpKey = join(dir, `.${CA_KEY_FILE}.${suffix}`);
  const tmpCert = join(dir, `.${CA_CERT_FILE}.${suffix}`);
  try {
    writeFileSync(tmpKey, keyPem, { mode: 0o600, flag: 'wx' });
    chmodSync(tmpKey, 0o600);
    writeFileSync(tmpCert, cert.toString('pem') + '\n', { mode: 0o644, flag: 'wx' });
    try {
      // link() fails when the key already exists: another replica won the race, and its CA is used.
      linkSync(tmpKey, keyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return;
    }
    renameSync(tmpCert, certPath);
  } catch (cause) {
    throw new ProxyError(ProxyErrorCode.Ca, `cannot write the CA into ${dir}`, { cause });
  } finally {
    for (const f of [tmpKey, tmpCert]) {
      try {
        unlinkSync(f);
      } catch {
        // already linked into place or never written
      }
    }
  }
}

async function loadCa(keyPath: string, certPath: string, leafLifetimeMs: number): Promise<CertificateAuthority> {
  const st = statSync(keyPath);
  if ((st.mode & 0o077) !== 0) {
    throw new ProxyError(
      ProxyErrorCode.CaKeyPermissions,
      `the CA key ${keyPath} is accessible by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it`,
      { details: { path: keyPath } },
    );
  }
  // Another replica may have linked the key and not yet renamed the certificate into place.
  let certPem = '';
  for (let i = 0; i < 100 && !existsSync(certPath); i++) await new Promise((r) => setTimeout(r, 20));
  let caKey: CryptoKey;
  let caCert: x509.X509Certificate;
  let nodeCert: NodeX509;
  try {
    certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const pkcs8 = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
    caKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, EC_ALG, false, ['sign']);
    caCert = new x509.X509Certificate(certPem);
    nodeCert = new NodeX509(certPem);
    const fromKey = createPublicKey(keyPem).export({ format: 'der', type: 'spki' });
    const fromCert = nodeCert.publicKey.export({ format: 'der', type: 'spki' });
    if (!Buffer.from(fromKey).equals(Buffer.from(fromCert))) throw new Error('the CA certificate does not belong to the CA key');
  } catch (cause) {
    throw new ProxyError(ProxyErrorCode.Ca, `cannot load the CA from ${certPath}: ${(cause as Error).message}`, { cause });
  }
  const notAfter = new Date(nodeCert.validTo);
  if (notAfter.getTime() <= Date.now()) {
    throw new ProxyError(ProxyErrorCode.Ca, `the CA certificate ${certPath} expired on ${notAfter.toISOString()}`);
  }
  const aki = await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
  const leafKeys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leafKeyPem = x509.PemConverter.encode(Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)), 'PRIVATE KEY');
  const leafSki = await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey);

  return {
    certPem,
    certPath,
    fingerprint256: nodeCert.fingerprint256,
    notAfter,
    async issueLeaf(host: string): Promise<LeafCertificate> {
      const ipFamily = isIP(host);
      if (!ipFamily && !isHostname(host)) {
        throw new ProxyError(ProxyErrorCode.BadHostname, `cannot issue a certificate for "${host.slice(0, 100)}"`);
      }
      const now = Date.now();
      // Never outlive the CA: a leaf valid past its issuer fails strict validation.
      const leafNotAfter = new Date(Math.min(now + leafLifetimeMs, notAfter.getTime()));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: [{ CN: [host] }],
        issuer: caCert.subjectName,
        notBefore: new Date(now - 3600_000),
        notAfter: leafNotAfter,
        signingKey: caKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: SIGN_ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: ipFamily ? 'ip' : 'dns', value: host }]),
          aki,
          leafSki,
        ],
      });
      return { host, certPem: cert.toString('pem'), keyPem: leafKeyPem, notAfter: leafNotAfter };
    },
  };
}

/** A positive 128-bit serial number, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;

/** True for a syntactically valid DNS name (letters, digits, hyphens, underscores; 253 chars max). */
export function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  return labels.every((l) => LABEL.test(l));
}
