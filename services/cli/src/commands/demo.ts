import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@tameflare/contracts';
import { flag } from '../args.ts';
import { createContext } from '../context.ts';
import { CliError, ExitCode } from '../errors.ts';
import { formatMs } from '../output.ts';
import { defineCommand } from '../registry.ts';
import { runAgent } from './run.ts';

const APPROVE = `mutation Approve($id: ID!, $comment: String) { approve(approvalId: $id, comment: $comment) { approvalId status approvals } }`;

/** A database next to the configured one, unique to this demo. */
function demoDatabaseUrl(env: Record<string, string | undefined>, defaultDatabaseUrl: (env: Record<string, string | undefined>) => string): string {
  const u = new URL(defaultDatabaseUrl(env));
  u.pathname = `/tameflare_demo_${randomBytes(4).toString('hex')}`;
  return u.toString();
}

export default defineCommand({
  name: 'demo',
  summary: 'bring a throwaway stack up and show an allowed read, a denied delete, an approval and the audit trail',
  usage: 'tf demo [--keep]',
  description: `
Starts a stack in a fresh state directory and database, with local fake GitHub and Stripe APIs
over HTTPS that accept only the credentials stored in the vault. A small Node agent (no API
key of its own) then runs through tf run: it reads a repository (allowed, the fake GitHub checks
the injected token), tries to delete it (denied with 403), and asks for a 75.00 refund, which the
default policy holds for approval; the demo approves it through the audit API while the agent
waits. The audit trail is read back from GraphQL. Everything is stopped and removed at the end
unless --keep is given.`,
  options: { keep: { type: 'boolean', description: 'leave the stack and its audit data running to explore (the fake APIs stop with the demo)' } },
  examples: ['npm run demo', 'tf demo --keep'],
  async run(ctx, args) {
    const keep = flag(args, 'keep');
    const { configureConnector, defaultDatabaseUrl, dropDatabase, setSecret, startStack, stopStack } = await import('@tameflare/stack');
    const { startFakeUpstreams } = await import('@tameflare/stack/fake-upstreams');
    const { fetchAuditTrail, printAuditTrail } = await import('../demo/audit-trail.ts');
    const s = ctx.out.style;
    const t0 = performance.now();
    const stateDir = ctx.stateDir ?? mkdtempSync(join(tmpdir(), 'tameflare-demo-'));
    const databaseUrl = demoDatabaseUrl(ctx.env, defaultDatabaseUrl);
    const secrets = { github: `ghp_demo${randomBytes(16).toString('hex')}`, stripe: `sk_test_demo${randomBytes(16).toString('hex')}` };
    const fakes = await startFakeUpstreams({ dir: join(stateDir, 'fake-upstreams'), secrets });
    const demo = createContext({ out: ctx.out, env: ctx.env, cwd: ctx.cwd, stateDir, json: false });
    let started = false;
    try {
      ctx.out.line(s.bold('TameFlare demo'));
      ctx.out.line(`Fake GitHub at ${fakes.byProvider.github!.origin} and fake Stripe at ${fakes.byProvider.stripe!.origin} (HTTPS, their own CA).`);
      const up = await startStack({
        stateDir,
        databaseUrl,
        env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: fakes.overrides, TF_INGRESS_UPSTREAM_CA_FILES: fakes.caFile } },
        actor: ctx.actor,
        onProgress: (p) => ctx.out.progress(`tf up: ${p.message}${p.total ? ` [${p.ready}/${p.total}]` : ''}`),
      });
      started = true;
      ctx.out.endProgress();
      ctx.out.line(`Stack ready in ${formatMs(up.durationMs)} (state ${stateDir}).`);

      const { bus } = await demo.admin();
      for (const [provider, secret] of Object.entries(secrets)) {
        const secretName = `${provider}-token`;
        await setSecret(bus, { gatewayId: 'default', name: secretName, value: secret, actor: ctx.actor });
        await configureConnector(bus, { gatewayId: 'default', connectorId: provider, kind: provider, secretName, actor: ctx.actor });
      }
      ctx.out.line('Connectors github and stripe enabled; their tokens are in the vault (the agent never sees them).');
      ctx.out.line('');

      // Approve the held refund from the CLI side, through the audit API, as the admin token's holder.
      const gql = demo.graphql();
      const approving = new Map<string, Promise<void>>();
      await bus.subscribe('tf.evt.approval.requested.default', (e: EventEnvelope<'ApprovalRequested'>) => {
        const id = e.data.approvalId;
        // The event may arrive twice (published live and relayed from the event store).
        if (approving.has(id)) return;
        approving.set(
          id,
          (async () => {
            await new Promise((r) => setTimeout(r, 500));
            ctx.out.note(s.yellow(`tf demo: approval ${id} requested for ${e.data.request.action.type}; approving it through the audit API as bootstrap-admin`));
            await gql.request(APPROVE, { id, comment: 'approved by tf demo' });
          })().catch((err: unknown) => ctx.out.note(s.red(`tf demo: could not approve ${id}: ${(err as Error).message}`))),
        );
      });

      const r = await runAgent(demo, { agentName: 'demo-agent', command: process.execPath, args: [join(import.meta.dirname, '..', 'demo', 'agent.mjs')], gatewayId: 'default' });
      await Promise.all(approving.values());
      const github = fakes.byProvider.github!.requests;
      const stripe = fakes.byProvider.stripe!.requests;
      ctx.out.line('');
      ctx.out.line(
        `Upstreams saw ${github.length} GitHub request${github.length === 1 ? '' : 's'} (${github.filter((q) => q.authorized).length} with the injected token; the DELETE never arrived: ${github.every((q) => q.method !== 'DELETE')}) and ${stripe.length} Stripe request (${stripe.filter((q) => q.authorized).length} authorized).`,
      );
      ctx.out.line('');
      ctx.out.line(s.bold('Audit trail (GraphQL):'));
      const trail = await fetchAuditTrail(gql, r.summary.runId, r.summary.actions.total);
      printAuditTrail(ctx.out, trail);
      ctx.out.line('');
      const ok = r.exitCode === 0 && github.every((q) => q.method !== 'DELETE' && q.authorized) && stripe.length === 1 && stripe[0]!.authorized;
      if (!ok) throw new CliError('TF_ERR_CLI_DEMO', 'the demo did not go as expected (see above)', { exitCode: ExitCode.System, hint: `logs are in ${join(stateDir, 'logs')}` });
      ctx.out.line(s.green(`Demo finished in ${formatMs(performance.now() - t0)}.`));
      if (keep) ctx.out.line(`The stack is still running: tf --state-dir ${stateDir} status | down`);
      return ExitCode.Ok;
    } finally {
      await demo.cleanup();
      await fakes.close();
      if (!keep) {
        if (started) await stopStack({ stateDir }).catch(() => undefined);
        await dropDatabase(databaseUrl).catch(() => undefined);
        if (!ctx.stateDir) rmSync(stateDir, { recursive: true, force: true });
      }
    }
  },
});
