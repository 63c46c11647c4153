import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { CA_CERT_FILE, CA_KEY_FILE, loadOrCreateCa, type CertificateAuthority } from './ca.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { ProxyErrorCode } from './errors.ts';

const run = promisify(execFile);
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tf-ca-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function opensslText(pem: string): Promise<string> {
  const dir = tmp();
  writeFileSync(join(dir, 'c.pem'), pem);
  return (await run('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'c.pem')])).stdout;
}

describe('local CA', () => {
  it('creates an ECDSA P-256 CA on first start with a 0600 key, and loads the same CA again', async () => {
    const dir = join(tmp(), 'state');
    const ca = await loadOrCreateCa({ stateDir: dir });
    expect(statSync(join(dir, CA_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const text = await opensslText(ca.certPem);
    expect(text).toContain('ASN1 OID: prime256v1');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    // The key itself never leaves the file: not in the certificate PEM, not on the object.
    expect(JSON.stringify(ca)).not.toContain('PRIVATE KEY');
    const again = await loadOrCreateCa({ stateDir: dir });
    expect(again.fingerprint256).toBe(ca.fingerprint256);
  });

  it('gives replicas that start together on one state directory a single CA', async () => {
    const dir = join(tmp(), 'shared');
    const cas = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateCa({ stateDir: dir })));
    expect(new Set(cas.map((c) => c.fingerprint256)).size).toBe(1);
    expect(readFileSync(join(dir, CA_CERT_FILE), 'utf8')).toBe(cas[0]!.certPem);
  });

  it('refuses a CA key that other users can read', async () => {
    const dir = join(tmp(), 'loose');
    await loadOrCreateCa({ stateDir: dir });
    chmodSync(join(dir, CA_KEY_FILE), 0o644);
    const err = await loadOrCreateCa({ stateDir: dir }).catch((e: unknown) => e);
    expect(isTameFlareError(err, ProxyErrorCode.CaKeyPermissions)).toBe(true);
    expect((err as Error).message).toContain('chmod 600');
  });

  it('refuses a certificate that does not belong to the key', async () => {
    const a = join(tmp(), 'a');
    const b = join(tmp(), 'b');
    await loadOrCreateCa({ stateDir: a });
    const other = await loadOrCreateCa({ stateDir: b });
    writeFileSync(join(a, CA_CERT_FILE), other.certPem);
    const err = await loadOrCreateCa({ stateDir: a }).catch((e: unknown) => e);
    expect(isTameFlareError(err, ProxyErrorCode.Ca)).toBe(true);
  });

  describe('leaf certificates', () => {
    let ca: CertificateAuthority;
    let dir: string;

    it('pass openssl verify -x509_strict for DNS names and IP addresses', async () => {
      dir = tmp();
      ca = await loadOrCreateCa({ stateDir: join(dir, 'state') });
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      for (const host of ['api.github.com', '127.0.0.1', '::1']) {
        const leaf = await ca.issueLeaf(host);
        writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
        const out = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]);
        expect(out.stdout.trim()).toMatch(/: OK$/);
        const cert = new X509Certificate(leaf.certPem);
        if (host.includes('.') && !/^\d/.test(host)) expect(cert.checkHost(host)).toBe(host);
        else expect(cert.checkIP(host)).toBe(host);
        const text = await opensslText(leaf.certPem);
        expect(text).toContain('X509v3 Authority Key Identifier');
        expect(text).toContain('TLS Web Server Authentication');
        expect(text).toMatch(/CA:FALSE/);
        expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
        expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
      }
    });

    it("are accepted by Python's ssl with VERIFY_X509_STRICT (what Python 3.13+ does by default)", async () => {
      const leaf = await ca.issueLeaf('api.github.com');
      const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end('hello over tls\n'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      const script = [
        'import socket, ssl, sys',
        'ctx = ssl.create_default_context(cafile=sys.argv[1])',
        'ctx.verify_flags |= ssl.VERIFY_X509_STRICT',
        'with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:',
        '    with ctx.wrap_socket(raw, server_hostname="api.github.com") as s:',
        '        print(s.recv(100).decode().strip())',
      ].join('\n');
      try {
        const out = await run('/usr/bin/python3', ['-c', script, join(dir, 'ca.pem'), String(port)]);
        expect(out.stdout.trim()).toBe('hello over tls');
      } finally {
        server.close();
      }
    });

    it('refuses names that are not host names', async () => {
      for (const bad of ['', 'a b', 'evil.com/path', '-x.com', 'x'.repeat(64) + '.com']) {
        const err = await ca.issueLeaf(bad).catch((e: unknown) => e);
        expect(isTameFlareError(err, ProxyErrorCode.BadHostname)).toBe(true);
      }
    });

    it('are cached per host, issued once for concurrent requests, and evicted least-recently-used', async () => {
      let issued = 0;
      const counting: CertificateAuthority = { ...ca, issueLeaf: (h) => (issued++, ca.issueLeaf(h)) };
      const cache = createCertificateCache({ ca: counting, maxEntries: 2 });
      const ctxs = await Promise.all(Array.from({ length: 20 }, () => cache.get('a.example.com')));
      expect(issued).toBe(1);
      expect(new Set(ctxs).size).toBe(1);
      expect(cache.peek('a.example.com')).toBe(ctxs[0]);
      await cache.get('b.example.com');
      await cache.get('a.example.com');
      await cache.get('c.example.com');
      expect(issued).toBe(3);
      expect(cache.size).toBe(2);
      expect(cache.peek('b.example.com')).toBeUndefined();
      expect(cache.peek('a.example.com')).toBeDefined();
    });
  });
});
