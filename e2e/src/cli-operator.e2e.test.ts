/**
 * The operator commands of the real `tf` CLI against a whole stack (as `tf up` builds it) with a
 * fake GitHub over HTTPS: `tf policy check|apply|test|backtest|history`, `tf secret
 * set|list|rotate|revoke|rotate-master-key`, `tf connector add|list|remove` and `tf token
 * create|list|revoke`. Each is checked by what a user would notice: the exit code and message,
 * what the gateway does to the next request, and that bad input changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWith, type ClientResponse } from '@tameflare/proxy/testing';
import { isOurProcess, readNatsPasswords, statePaths } from '@tameflare/stack';
import { freePort } from '@tameflare/testing';
import { generateMasterKey } from '@tameflare/vault-crypto';
import { auditedActions, REPO_ROOT, startTfStack, type TfResult, type TfStack } from './harness/index.ts';
import { isReady, serviceProcess, type ServiceProcess } from './harness/service-process.ts';

const DEFAULT_POLICY = readFileSync(join(REPO_ROOT, 'infra', 'policies', 'default.yaml'), 'utf8');
const DENY_WIDGETS = `${DEFAULT_POLICY.trimEnd()}

  - id: deny-widgets-read
    effect: deny
    match:
      actions: [github.repo.get]
      resources: [acme/widgets]
    reason: The widgets repository is off limits
`;
const INVALID = `version: 1
rules:
  - id: typo
    efect: allow
    match: { actions: [github] }
  - id: bad-cel
    effect: deny
    match: { actions: [github.repo.delete] }
    when: action.params.x >
`;

let stack: TfStack;
let dir: string;
let run: Awaited<ReturnType<TfStack['startRun']>>;
/** Every tf result of this file, to check no secret value was ever printed. */
const outputs: TfResult[] = [];
const extraVaults: ServiceProcess[] = [];

const tf = async (args: string[], options: { env?: Record<string, string>; input?: string } = {}) => {
  const r = await stack.tf(args, { cwd: dir, ...options });
  outputs.push(r);
  return r;
};
const json = <T = any>(r: TfResult): T => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
};
/** The one-line reason and its hint, as a user sees them. */
const failure = (r: TfResult) => {
  const lines = r.stderr.trim().split('\n');
  return { reason: lines.find((l) => l.startsWith('tf: ')) ?? '', hint: lines.find((l) => l.startsWith('  hint: ')) ?? '' };
};
let reads = 0;
/** GET acme/widgets through the gateway with curl, as the test's agent run. */
const readWidgets = (): Promise<ClientResponse> => {
  reads++;
  return sendWith('curl', { proxyUrl: run.proxyUrl(), caPem: stack.caPem }, { method: 'GET', url: 'https://api.github.com/repos/acme/widgets', headers: { 'user-agent': 'tf-e2e' } });
};
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const problemOf = (r: ClientResponse) => JSON.parse(r.body.toString('utf8')) as { status: number; rule?: string; detail?: string; title?: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-e2e-cli-'));
  stack = await startTfStack({ providers: ['github'] });
  run = await stack.startRun('cli-operator');
}, 180_000);
afterAll(async () => {
  for (const v of extraVaults) await v.dispose();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('tf policy', () => {
  it('check: a valid file is summarised; an invalid one lists every problem as file:line:col and exits 1', async () => {
    const ok = await tf(['policy', 'check', file('deny-widgets.yaml', DENY_WIDGETS)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('deny-widgets.yaml: valid');
    expect(ok.stdout).toMatch(/8 rules: 2 allow, 4 deny, 2 require_approval/);

    const bad = await tf(['policy', 'check', file('invalid.yaml', INVALID)]);
    expect(bad.code).toBe(1);
    const problems = bad.stdout.trim().split('\n');
    expect(problems.length).toBeGreaterThanOrEqual(3);
    for (const p of problems) expect(p).toMatch(/^invalid\.yaml:\d+:\d+: /);
    expect(bad.stdout).toContain('invalid.yaml:4:5: unknown field "efect"');
    expect(bad.stdout).toMatch(/invalid\.yaml:5:24: action glob "github" matches nothing/);
    expect(failure(bad).reason).toBe(`tf: invalid.yaml is not a valid policy: ${problems.length} problems`);
    expect(failure(bad).hint).not.toBe('');

    const report = await tf(['policy', 'check', 'invalid.yaml', '--json']);
    expect(report.code).toBe(1);
    expect(JSON.parse(report.stdout)).toMatchObject({ ok: false, file: 'invalid.yaml', issues: expect.arrayContaining([expect.objectContaining({ line: 4, col: 5 })]) });

    const missing = await tf(['policy', 'check', 'nope.yaml']);
    expect(missing.code).toBe(1);
    expect(failure(missing).reason).toBe('tf: cannot read nope.yaml: no such file');
  });

  it('apply: an invalid file is refused with its problems and the live policy is unchanged', async () => {
    const before = json(await tf(['policy', 'history', '--json']));
    const r = await tf(['policy', 'apply', 'invalid.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid.yaml:4:5: unknown field "efect"');
    expect(failure(r).reason).toMatch(/^tf: invalid\.yaml is not a valid policy: \d+ problems$/);
    expect(failure(r).hint).toContain('live policy is unchanged');
    expect(json(await tf(['policy', 'history', '--json']))).toEqual(before);
    const ghost = await tf(['policy', 'apply', 'deny-widgets.yaml', '--gateway', 'ghost']);
    expect(ghost.code).toBe(1);
    expect(failure(ghost).reason).toBe('tf: gateway "ghost" does not exist');
    expect(failure(ghost).hint).toContain('default');
  });

  it('apply makes the next version live on the gateway; history lists it and prints its exact source', async () => {
    expect((await readWidgets()).status).toBe(200);
    const applied = json(await tf(['policy', 'apply', 'deny-widgets.yaml', '--json']));
    expect(applied).toMatchObject({ gatewayId: 'default', version: 2, ruleCount: 8 });

    const denied = await readWidgets();
    expect(denied.status).toBe(403);
    expect(problemOf(denied)).toMatchObject({ status: 403, rule: 'deny-widgets-read' });

    const history = json(await tf(['policy', 'history', '--json']));
    expect(history.active).toBe(2);
    expect(history.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(history.versions[1]).toMatchObject({ ruleCount: 8, publishedBy: expect.stringMatching(/^cli:/) });
    const source = await tf(['policy', 'history', '--version', '2']);
    expect(source.stdout).toBe(DENY_WIDGETS);
    expect(failure(await tf(['policy', 'history', '--version', '9'])).reason).toBe('tf: gateway default has no policy version 9');

    // CI guard: a publish that is not on top of the version it expects is refused.
    const stale = await tf(['policy', 'apply', file('default.yaml', DEFAULT_POLICY), '--expected-version', '1']);
    expect(stale.code).toBe(1);
    expect(failure(stale).hint).toContain('tf policy history');
    expect(json(await tf(['policy', 'history', '--json'])).active).toBe(2);

    expect(json(await tf(['policy', 'apply', 'default.yaml', '--expected-version', '2', '--json']))).toMatchObject({ version: 3 });
    expect((await readWidgets()).status).toBe(200);
    // Applying the active content again makes no new version.
    expect(json(await tf(['policy', 'apply', 'default.yaml', '--json']))).toMatchObject({ version: 3 });
  });

  it('test: runs the cases against the policy the test file names; a failing case exits 1 saying why', async () => {
    const cases = (expectRead: string) => `policy: ./deny-widgets.yaml
defaults:
  agent: { id: support-bot, name: Support bot }
  time: "2026-05-04T09:30:00Z"
cases:
  - name: reading widgets is denied
    input:
      action: { type: github.repo.get, resource: acme/widgets, risk: read }
    expect: { decision: ${expectRead}, rule: deny-widgets-read }
  - name: reading another repository is allowed
    input:
      action: { type: github.repo.get, resource: acme/gadgets, risk: read }
    expect: { decision: allow, rule: allow-reads }
`;
    const pass = await tf(['policy', 'test', file('widgets.test.yaml', cases('deny'))]);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stdout).toContain('2 passed, 0 failed, 2 total');

    const fail = await tf(['policy', 'test', file('widgets-wrong.test.yaml', cases('allow')), '--json']);
    expect(fail.code).toBe(1);
    const report = JSON.parse(fail.stdout);
    expect(report).toMatchObject({ ok: false, passed: 1, failed: 1 });
    expect(report.cases[0].failures[0]).toBe('expected allow, got deny (rule "deny-widgets-read")');

    const broken = await tf(['policy', 'test', file('broken.test.yaml', 'policy: ./deny-widgets.yaml\ncases:\n  - name: x\n    input: { action: { tpye: github.repo.get } }\n    expect: { decision: allow }\n')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.test\.yaml:4:\d+: /);
  });

  it('backtest: lists every recorded decision the candidate would change, and changes nothing live', async () => {
    const before = json(await tf(['policy', 'history', '--json']));
    for (let i = 0; i < 3; i++) expect((await readWidgets()).status).toBe(200);
    const recorded = await auditedActions(stack, run.runId, reads);
    expect(recorded).toHaveLength(reads);
    const r = json(await tf(['policy', 'backtest', 'deny-widgets.yaml', '--since', '1h', '--json']));
    const widgetReads = recorded.filter((a) => a.type === 'github.repo.get' && a.decided?.decision === 'ALLOW');
    expect(widgetReads.length).toBe(reads - 1);
    expect(r.changed).toBe(widgetReads.length);
    expect(r.transitions).toEqual([{ transition: 'allow->deny', count: widgetReads.length }]);
    for (const c of r.changes) {
      expect(c).toMatchObject({ actionType: 'github.repo.get', resource: 'acme/widgets', agentId: 'cli-operator', before: { decision: 'ALLOW', rule: 'allow-reads' }, after: { decision: 'DENY', rule: 'deny-widgets-read' } });
    }
    expect(json(await tf(['policy', 'history', '--json']))).toEqual(before);
    expect((await readWidgets()).status).toBe(200);

    const human = await tf(['policy', 'backtest', 'deny-widgets.yaml', '--since', '1h']);
    expect(human.stdout).toMatch(/would change/);
    expect(human.stdout).toContain('deny-widgets-read');
    expect(failure(await tf(['policy', 'backtest', 'deny-widgets.yaml', '--since', 'last week'])).reason).toBe('tf: --since "last week" is not a duration or a date');
    const invalid = await tf(['policy', 'backtest', 'invalid.yaml']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('invalid.yaml:4:5');
  });
});

describe('tf secret', () => {
  const rotated = 'ghp_rotated_value_for_the_e2e_1234567890';

  it('refuses a value on the command line without repeating it, and a missing or bad source; nothing is stored', async () => {
    const before = json(await tf(['secret', 'list', '--json']));
    const inline = await tf(['secret', 'set', 'github-token', rotated]);
    expect(inline.code).toBe(1);
    expect(failure(inline).reason).toBe('tf: a secret value is never taken from the command line: it would stay in the shell history and be visible in ps');
    expect(failure(inline).hint).toContain('--from-env');
    const none = await tf(['secret', 'set', 'github-token']);
    expect(failure(none).reason).toBe('tf: no source for the secret value');
    const unset = await tf(['secret', 'set', 'github-token', '--from-env', 'NOT_SET_ANYWHERE']);
    expect(failure(unset).reason).toBe('tf: environment variable NOT_SET_ANYWHERE is not set');
    const short = await tf(['secret', 'set', 'github-token', '--stdin'], { input: 'short\n' });
    expect(short.code).toBe(1);
    expect(failure(short).reason).toBe('tf: the value from standard input is 5 bytes; the minimum is 8');
    const twoLines = await tf(['secret', 'set', 'github-token', '--stdin'], { input: 'line-one-secret\nline-two\n' });
    expect(failure(twoLines).reason).toMatch(/control characters/);
    const badName = await tf(['secret', 'set', rotated.toUpperCase(), '--from-env', 'X']);
    expect(failure(badName).reason).toBe('tf: the secret name must be lowercase letters, digits, - and _ (at most 63)');
    const missing = await tf(['secret', 'rotate', 'no-such-secret', '--from-env', 'NEW'], { env: { NEW: rotated } });
    expect(missing.code).toBe(1);
    expect(failure(missing).hint).toContain('tf secret set no-such-secret');
    expect(json(await tf(['secret', 'list', '--json']))).toEqual(before);
  });

  it('rotate: the next request carries the new value; set from stdin or a file; list shows metadata only', async () => {
    const r = json(await tf(['secret', 'rotate', 'github-token', '--from-env', 'NEW_GITHUB_TOKEN', '--json'], { env: { NEW_GITHUB_TOKEN: rotated } }));
    expect(r).toMatchObject({ name: 'github-token', gatewayId: 'default', version: 2, source: 'env', byteLength: rotated.length });
    const github = stack.upstream('github');
    const seen = github.requests.length;
    await readWidgets();
    expect(github.requests.slice(seen).map((q) => q.headers.authorization)).toEqual([`Bearer ${rotated}`]);

    // Back to the value the fake GitHub accepts, piped in as a secrets manager would.
    const back = await tf(['secret', 'set', 'github-token', '--stdin'], { input: `${stack.secret('github')}\n` });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('Secret github-token stored on gateway default: version 3');
    expect((await readWidgets()).status).toBe(200);

    writeFileSync(join(dir, 'openai.key'), 'sk-file-based-secret-0123456789\n', { mode: 0o600 });
    expect((await tf(['secret', 'set', 'openai-key', '--from-file', 'openai.key'])).code).toBe(0);
    const list = json(await tf(['secret', 'list', '--json']));
    expect(list.secrets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'github-token', version: 3, byteLength: stack.secret('github').length, revoked: false }),
        expect.objectContaining({ name: 'openai-key', version: 1, byteLength: 'sk-file-based-secret-0123456789'.length }),
      ]),
    );
    expect(JSON.stringify(list)).not.toContain('sk-file-based-secret');
    const table = await tf(['secret', 'list']);
    expect(table.stdout).toMatch(/github-token\s+default\s+3\s+/);
  });

  it('revoke: requests that need the secret get 503 and are not forwarded until it is set again', async () => {
    const r = await tf(['secret', 'revoke', 'github-token']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Secret github-token revoked on gateway default');
    const github = stack.upstream('github');
    const seen = github.requests.length;
    const refused = await readWidgets();
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(github.requests.length).toBe(seen);
    expect(json(await tf(['secret', 'list', '--revoked', '--json'])).secrets).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'github-token', revoked: true })]));
    expect(failure(await tf(['secret', 'revoke', 'never-set'])).hint).toContain('tf secret list');
    expect((await tf(['secret', 'set', 'github-token', '--from-env', 'T'], { env: { T: stack.secret('github') } })).code).toBe(0);
    expect((await readWidgets()).status).toBe(200);
  });
});

describe('tf connector', () => {
  it('add, list and remove; bad input is refused before anything is sent', async () => {
    const before = json(await tf(['connector', 'list', '--json']));
    expect(before.connectors.map((c: { connectorId: string }) => c.connectorId)).toEqual(['github']);
    for (const [args, reason] of [
      [['connector', 'add', 'ftp'], 'tf: unknown connector kind "ftp"'],
      [['connector', 'add', 'github', '--domain', 'https://api.github.com/x'], 'tf: invalid connector config: connector github.domains[0]'],
      [['connector', 'add', 'http', '--id', 'billing', '--domain', 'billing.example.com', '--secret', 'billing'], 'tf: a http connector has no default way to inject a secret'],
      [['connector', 'add', 'github', '--injection', 'cookie:x', '--secret', 'github-token'], 'tf: --injection "cookie:x" is not an injection rule'],
      [['connector', 'add', 'slack', '--gateway', 'ghost', '--secret', 'slack-token'], 'tf: gateway "ghost" does not exist'],
    ] as const) {
      const r = await tf([...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(failure(r).reason.startsWith(reason), `${failure(r).reason} should start with ${reason}`).toBe(true);
    }
    expect(json(await tf(['connector', 'list', '--json']))).toEqual(before);

    const added = await tf(['connector', 'add', 'slack', '--secret', 'slack-token']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Connector slack (slack) added to gateway default.');
    expect(added.stdout).toMatch(/domains\s+slack\.com, api\.slack\.com/);
    expect(added.stdout).toMatch(/injects\s+secret slack-token as bearer/);
    expect(added.stderr).toContain('Secret slack-token is not set on gateway default');
    const custom = json(await tf(['connector', 'add', 'http', '--id', 'billing', '--domain', 'billing.example.com', '--secret', 'openai-key', '--injection', 'header:X-Api-Key', '--json']));
    expect(custom).toMatchObject({ connectorId: 'billing', created: true, injection: { kind: 'header', name: 'X-Api-Key' }, secretState: 'set' });
    const list = json(await tf(['connector', 'list', '--json']));
    expect(list.connectors.map((c: { connectorId: string }) => c.connectorId)).toEqual(['billing', 'github', 'slack']);

    expect((await tf(['connector', 'remove', 'billing'])).code).toBe(0);
    const again = await tf(['connector', 'remove', 'billing']);
    expect(again.code).toBe(1);
    expect(failure(again).reason).toBe('tf: connector "billing" is not configured on gateway "default"');
    expect(failure(again).hint).toContain('tf connector list');
    expect(json(await tf(['connector', 'list', '--json'])).connectors.map((c: { connectorId: string }) => c.connectorId)).toEqual(['github', 'slack']);
  });
});

describe('tf token', () => {
  it('create prints the token once; it works on the audit API until revoked', async () => {
    const viewer = (token: string) =>
      fetch(stack.info.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ viewer { name role } }' }) });
    const issued = json(await tf(['token', 'create', 'alice', '--role', 'approver', '--json']));
    expect(issued).toMatchObject({ name: 'alice', role: 'approver', token: expect.stringMatching(/^tfa_/) });
    expect(await (await viewer(issued.token)).json()).toMatchObject({ data: { viewer: { name: 'alice', role: 'APPROVER' } } });
    const list = json(await tf(['token', 'list', '--json']));
    expect(list.tokens).toEqual(expect.arrayContaining([expect.objectContaining({ tokenId: issued.tokenId, name: 'alice', role: 'approver' })]));
    expect(JSON.stringify(list)).not.toContain(issued.token);

    expect((await tf(['token', 'revoke', issued.tokenId])).code).toBe(0);
    expect((await viewer(issued.token)).status).toBe(401);
    const again = await tf(['token', 'revoke', issued.tokenId]);
    expect(again.code).toBe(1);
    expect(failure(again).reason).toContain('already revoked');
    expect(failure(await tf(['token', 'revoke', issued.token])).reason).toBe('tf: that is a token, not a token id');
    expect(failure(await tf(['token', 'create', 'bob', '--role', 'root'])).reason).toBe('tf: --role "root" is not a role');
  });
});

describe('tf secret rotate-master-key', () => {
  /** Replaces the running vault with one started on the given keys, as an operator restarts it. */
  async function restartVault(env: Record<string, string>): Promise<void> {
    for (const v of extraVaults.splice(0)) await v.dispose();
    for (const p of stack.info.processes.filter((x) => x.service === 'vault' && isOurProcess(x.pid, x.marker))) {
      process.kill(p.pid, 'SIGTERM');
      for (let i = 0; i < 200 && isOurProcess(p.pid, p.marker); i++) await new Promise((r) => setTimeout(r, 50));
    }
    const port = await freePort();
    const vault = serviceProcess(`vault-${extraVaults.length + 2}`, 'vault', {
      TF_NATS_URL: stack.info.natsUrl,
      TF_NATS_USER: 'vault',
      TF_NATS_PASSWORD: readNatsPasswords(statePaths(stack.stateDir)).vault,
      TF_HEALTH_PORT: String(port),
      TF_INSTANCE_ID: 'vault-rotated',
      TF_DATABASE_URL: stack.db.url,
      ...env,
    }, () => isReady(port));
    extraVaults.push(vault);
    await vault.start();
  }

  it('re-wraps every data key under the new master key; the old key can then go and secrets still inject', async () => {
    const nothing = json(await tf(['secret', 'rotate-master-key', '--json']));
    expect(nothing).toMatchObject({ rewrappedDataKeys: 0, previousMasterKeyIds: [] });

    const oldKeyFile = statePaths(stack.stateDir).masterKey;
    const newKey = generateMasterKey();
    await restartVault({ TF_VAULT_MASTER_KEY: newKey, TF_VAULT_PREVIOUS_MASTER_KEY_FILES: oldKeyFile });
    const versions = json(await tf(['secret', 'list', '--all', '--revoked', '--json'])).secrets.reduce((n: number, s: { version: number }) => n + s.version, 0);
    const r = await tf(['secret', 'rotate-master-key']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Re-wrapped ${versions} data keys? under master key mk_[0-9a-f]{16}`));

    await restartVault({ TF_VAULT_MASTER_KEY: newKey });
    const after = await readWidgets();
    expect(after.status, `${after.body.toString()}\n${extraVaults[0]!.log().slice(-3000)}`).toBe(200);
    expect(json(await tf(['secret', 'rotate-master-key', '--json']))).toMatchObject({ rewrappedDataKeys: 0 });

    // A vault started on a key that wraps nothing cannot re-wrap: refused, nothing changed.
    await restartVault({ TF_VAULT_MASTER_KEY: generateMasterKey() });
    const refused = await tf(['secret', 'rotate-master-key']);
    expect(refused.code).toBe(1);
    expect(failure(refused).hint).toContain('TF_VAULT_PREVIOUS_MASTER_KEYS');
    await restartVault({ TF_VAULT_MASTER_KEY: newKey });
    expect((await readWidgets()).status).toBe(200);
  }, 120_000);
});

describe('what tf printed', () => {
  it('never contained a secret value', () => {
    const values = [stack.secret('github'), 'ghp_rotated_value_for_the_e2e_1234567890', 'sk-file-based-secret-0123456789'];
    for (const r of outputs) for (const v of values) expect(`${r.stdout}\n${r.stderr}`).not.toContain(v);
    expect(outputs.length).toBeGreaterThan(40);
  });
});
