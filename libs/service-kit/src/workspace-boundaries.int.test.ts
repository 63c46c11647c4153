import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.mjs') });

/** Lints a file that does not exist on disk, as if it were at `path` in the repository. */
async function lintVirtual(path: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

const NX = '@nx/enforce-module-boundaries';

describe('module boundaries (eslint.config.mjs)', () => {
  it('refuses a service importing another service', async () => {
    const deep = await lintVirtual('services/ingress/src/boundary-probe.ts', "import { startPolicyService } from '@tameflare/policy/src/main.ts';\nexport const f = startPolicyService;\n");
    expect(deep).toContainEqual({ rule: NX, message: 'Imports of apps are forbidden' });
    const relative = await lintVirtual('services/ingress/src/boundary-probe.ts', "import * as policy from '../../policy/src/main.ts';\nexport const p = policy;\n");
    expect(relative.map((m) => m.rule)).toContain(NX);
    // The bare package name has no entry point for Nx to resolve; eslint.config.mjs names service packages for that form.
    const bare = await lintVirtual('services/ingress/src/boundary-probe.ts', "import * as policy from '@tameflare/policy';\nexport const p = policy;\n");
    expect(bare).toContainEqual(expect.objectContaining({ rule: 'no-restricted-imports', message: expect.stringContaining('Services talk over NATS') }));
  });

  it('refuses a library importing a service', async () => {
    const deep = await lintVirtual('libs/messaging/src/boundary-probe.ts', "import ingress from '@tameflare/ingress/package.json';\nexport const i = ingress;\n");
    // Nx may report this as "Imports of apps are forbidden" or, since the service already depends
    // on this library, as a circular dependency; either way the boundary rule refuses it.
    expect(deep.filter((m) => m.rule === NX)).not.toEqual([]);
    const bare = await lintVirtual('libs/messaging/src/boundary-probe.ts', "import * as ingress from '@tameflare/ingress';\nexport const i = ingress;\n");
    expect(bare.map((m) => m.rule)).toContain('no-restricted-imports');
  });

  it('refuses the test harness in production code but allows it in tests', async () => {
    const code = "import { startNatsServer } from '@tameflare/testing';\nexport const s = startNatsServer;\n";
    expect((await lintVirtual('libs/messaging/src/boundary-probe.ts', code)).map((m) => m.rule)).toContain(NX);
    expect(await lintVirtual('libs/messaging/src/boundary-probe.int.test.ts', code)).toEqual([]);
  });

  it('lets a service import libraries', async () => {
    const code = "import { connectBus } from '@tameflare/messaging';\nimport { runService } from '@tameflare/service-kit';\nexport const x = [connectBus, runService];\n";
    expect(await lintVirtual('services/ingress/src/boundary-probe.ts', code)).toEqual([]);
  });
});

describe('Nx project graph', () => {
  it('has services depending only on libraries, and no library depending on a service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-graph-'));
    try {
      const file = join(dir, 'graph.json');
      await promisify(execFile)(join(root, 'node_modules', '.bin', 'nx'), ['graph', `--file=${file}`], {
        cwd: root,
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
        timeout: 120_000,
      });
      const graph = JSON.parse(readFileSync(file, 'utf8')) as {
        graph: { nodes: Record<string, { data: { tags?: string[]; root: string } }>; dependencies: Record<string, { target: string }[]> };
      };
      const { nodes, dependencies } = graph.graph;
      const tagged = (name: string, tag: string) => nodes[name]?.data.tags?.includes(tag) ?? false;
      const services = Object.keys(nodes).filter((n) => tagged(n, 'type:service'));
      const libs = Object.keys(nodes).filter((n) => tagged(n, 'type:lib'));
      expect(services.length).toBeGreaterThanOrEqual(8);
      expect(libs).toEqual(expect.arrayContaining(['@tameflare/messaging', '@tameflare/service-kit', '@tameflare/contracts']));

      const projectDeps = (n: string) => (dependencies[n] ?? []).map((d) => d.target).filter((t) => t in nodes);
      const violations: string[] = [];
      for (const s of services) for (const t of projectDeps(s)) if (!tagged(t, 'type:lib')) violations.push(`${s} -> ${t}`);
      for (const l of libs) for (const t of projectDeps(l)) if (tagged(t, 'type:service')) violations.push(`${l} -> ${t}`);
      expect(violations).toEqual([]);
      // The graph sees real edges (an empty graph would pass the checks above vacuously).
      expect(projectDeps('@tameflare/service-kit')).toEqual(expect.arrayContaining(['@tameflare/messaging', '@tameflare/config', '@tameflare/telemetry']));
      expect(services.some((s) => projectDeps(s).includes('@tameflare/contracts'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
