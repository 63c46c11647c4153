import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentEnvironment, SHIMS } from './agent-env.ts';
import { combinedCaBundle } from './ca-bundle.ts';
import { filterNoProxy } from './no-proxy.ts';
import { resolveCommand } from './resolve-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'tf-cli-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NO_PROXY', () => {
  const governed = ['api.github.com', 'uploads.github.com', '*.stripe.com', 'localhost:8080'];
  it('drops entries that would let a governed host bypass the gateway, keeps the others', () => {
    const r = filterNoProxy('localhost,127.0.0.1,.github.com,internal.corp,*.stripe.com,api.stripe.com,example.org', governed);
    expect(r.removed).toEqual(['localhost', '.github.com', '*.stripe.com', 'api.stripe.com']);
    expect(r.value).toBe('127.0.0.1,internal.corp,example.org');
  });
  it('drops the wildcard and parent domains', () => {
    expect(filterNoProxy('*', governed)).toEqual({ value: '', removed: ['*'] });
    expect(filterNoProxy('github.com com', governed).removed).toEqual(['github.com', 'com']);
    expect(filterNoProxy(undefined, governed)).toEqual({ value: '', removed: [] });
  });
});

describe('the agent environment', () => {
  const o = { proxyUrl: 'http://tf:tfr_x@127.0.0.1:9480', caBundleFile: '/s/bundle.pem', gatewayCaFile: '/s/ca.pem', noProxy: 'internal.corp', runId: 'r', agentId: 'a', gatewayId: 'g' };
  it('sets the proxy in both cases, the bundle for every replacing variable and the CA for Node', () => {
    const env = agentEnvironment({ PATH: '/bin', HTTPS_PROXY: 'http://elsewhere:1', NODE_OPTIONS: '--max-old-space-size=512', PYTHONPATH: '/lib/py' }, o);
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'WSS_PROXY']) expect(env[k]).toBe(o.proxyUrl);
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) expect(env[k]).toBe('/s/bundle.pem');
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/s/ca.pem');
    expect(env.NODE_USE_ENV_PROXY).toBe('1');
    expect(env.NODE_OPTIONS).toBe(`--max-old-space-size=512 --require ${SHIMS.nodePreload}`);
    expect(env.PYTHONPATH).toBe(`${SHIMS.pythonPath}:/lib/py`);
    expect(env.NO_PROXY).toBe('internal.corp');
    expect(env.PATH).toBe('/bin');
  });
  it('does not stack the shims when tf run runs inside tf run', () => {
    const once = agentEnvironment({}, o);
    const twice = agentEnvironment(once, o);
    expect(twice.NODE_OPTIONS).toBe(once.NODE_OPTIONS);
    expect(twice.PYTHONPATH).toBe(once.PYTHONPATH);
  });
});

describe('the CA bundle', () => {
  it('holds the system roots and the gateway CA, each PEM newline-terminated', () => {
    const ca = join(dir, 'ca.pem');
    const sys = join(dir, 'system.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nGATEWAY\n-----END CERTIFICATE-----');
    writeFileSync(sys, '-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----');
    const b = combinedCaBundle(ca, { TF_SYSTEM_CA_FILE: sys });
    expect(b.pem).toMatch(/ROOT\n-----END CERTIFICATE-----\n\n# TameFlare gateway CA .*\n-----BEGIN CERTIFICATE-----\nGATEWAY\n-----END CERTIFICATE-----\n$/);
    expect(() => combinedCaBundle(join(dir, 'missing.pem'), {})).toThrow(/does not exist/);
  });
});

describe('resolving the command', () => {
  it('finds programs on PATH and paths, and answers 127 or 126 like a shell', () => {
    const script = join(dir, 'agent.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o755);
    const data = join(dir, 'data.txt');
    writeFileSync(data, 'x');
    expect(resolveCommand('agent.sh', { PATH: `/nonexistent:${dir}` }, '/')).toBe(script);
    expect(resolveCommand('./agent.sh', {}, dir)).toBe(script);
    expect(() => resolveCommand('no-such-agent', { PATH: dir }, '/')).toThrow(expect.objectContaining({ exitCode: 127 }));
    expect(() => resolveCommand('./data.txt', {}, dir)).toThrow(expect.objectContaining({ exitCode: 126 }));
    expect(() => resolveCommand(dir, {}, '/')).toThrow(expect.objectContaining({ exitCode: 126 }));
  });
});
