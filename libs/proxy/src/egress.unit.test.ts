import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { blockedReason, createEgressGuard } from './egress.ts';
import { ProxyErrorCode } from './errors.ts';

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.10.10', 'link_local'],
    ['fe80::1', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['64:ff9b::a00:1', 'ipv6_embedded'],
    ['2002:a00:1::1', 'ipv6_embedded'],
    ['2001:0:4136:e378::1', 'ipv6_embedded'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.10', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['not-an-ip', 'reserved'],
  ])('%s is refused as %s', (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  it.each(['140.82.112.6', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::6810:84e5', '::ffff:140.82.112.6'])('%s is a public address', (a) => {
    expect(blockedReason(a)).toBeNull();
  });
});

describe('egress guard', () => {
  const answers: Record<string, { address: string; family: number }[]> = {
    'public.test': [{ address: '140.82.112.6', family: 4 }],
    'mixed.test': [
      { address: '140.82.112.6', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ],
    'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  };
  let lookups = 0;
  const resolve = async (host: string) => {
    lookups++;
    const a = answers[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a;
  };

  it('refuses a name when ANY of its addresses is private (no partial answers to race on)', async () => {
    const g = createEgressGuard({ resolve });
    const err = await g.check('mixed.test', 443).catch((e: unknown) => e);
    expect(isTameFlareError(err, ProxyErrorCode.EgressDenied)).toBe(true);
    expect((err as { details: { reason: string; address: string } }).details).toMatchObject({ reason: 'private', address: '10.0.0.7' });
  });

  it('resolves once and reuses the checked answer', async () => {
    const g = createEgressGuard({ resolve, cacheMs: 60_000 });
    lookups = 0;
    const [a, b] = await Promise.all([g.check('public.test', 443), g.check('public.test', 443)]);
    await g.check('public.test', 443);
    expect(a).toEqual([{ address: '140.82.112.6', family: 4 }]);
    expect(b).toBe(a);
    expect(lookups).toBe(1);
  });

  it('checks IP literals without DNS, bracketed or not', async () => {
    const g = createEgressGuard({ resolve });
    for (const host of ['[::1]', '::1', '127.0.0.1', '169.254.169.254']) {
      const err = await g.check(host, 80).catch((e: unknown) => e);
      expect(isTameFlareError(err, ProxyErrorCode.EgressDenied)).toBe(true);
    }
    await expect(g.check('140.82.112.6', 443)).resolves.toEqual([{ address: '140.82.112.6', family: 4 }]);
  });

  it('reports names that do not resolve as DNS errors, not as denials', async () => {
    const err = await createEgressGuard({ resolve }).check('nxdomain.test', 443).catch((e: unknown) => e);
    expect(isTameFlareError(err, ProxyErrorCode.Dns)).toBe(true);
  });

  it('refuses its own listening address and configured ranges, and allows explicit exceptions', async () => {
    const g = createEgressGuard({
      resolve,
      selfAddresses: () => [{ address: '140.82.112.6', port: 8080 }],
      denyCidrs: ['140.82.0.0/16'],
      allowCidrs: ['10.0.0.0/24'],
    });
    expect(g.reasonFor('140.82.112.6', 8080)).toBe('self');
    expect(g.reasonFor('140.82.112.6', 443)).toBe('denied_range');
    expect(g.reasonFor('10.0.0.7', 443)).toBeNull();
    expect(g.reasonFor('10.0.1.7', 443)).toBe('private');
    expect(() => createEgressGuard({ denyCidrs: ['10.0.0.0/33'] })).toThrow(/invalid CIDR/);
  });

  it('gives net.connect only checked addresses through its lookup', async () => {
    const g = createEgressGuard({ resolve });
    const viaLookup = (host: string, all: boolean) =>
      new Promise<unknown>((res) => {
        (g.lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)(host, { all }, (err, a, f) =>
          res(err ? (err as Error).message : all ? a : [a, f]),
        );
      });
    expect(await viaLookup('public.test', true)).toEqual([{ address: '140.82.112.6', family: 4 }]);
    expect(await viaLookup('public.test', false)).toEqual(['140.82.112.6', 4]);
    expect(await viaLookup('metadata.test', false)).toMatch(/metadata/);
  });
});
