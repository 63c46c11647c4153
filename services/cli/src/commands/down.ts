import { intOpt } from '../args.ts';
import { formatMs } from '../output.ts';
import { defineCommand } from '../registry.ts';

export default defineCommand({
  name: 'down',
  summary: 'stop every process of the local stack (data is kept for the next tf up)',
  usage: 'tf down [--grace SECONDS]',
  description: `
Sends SIGTERM to each service (ingress first), waits for graceful shutdown, then SIGKILLs
any straggler; nats-server last. The database, JetStream store, keys and CA stay in the state
directory, so the next tf up starts with the same history and secrets.`,
  options: { grace: { type: 'string', valueName: 'SECONDS', description: 'how long to wait before SIGKILL (default 15)' } },
  json: true,
  examples: ['tf down'],
  async run(ctx, args) {
    const grace = intOpt(args, 'grace', 15, { min: 0, max: 600 })!;
    const { stopStack } = await import('@tameflare/stack/client');
    const r = await stopStack({ ...(ctx.stateDir ? { stateDir: ctx.stateDir } : {}), graceMs: grace * 1000 });
    ctx.out.result({ ...r, durationMs: Math.round(r.durationMs) }, () => {
      const killed = r.processes.filter((p) => p.outcome === 'killed');
      ctx.out.line(`Stopped ${r.processes.length} processes in ${formatMs(r.durationMs)}.`);
      if (killed.length) ctx.out.line(ctx.out.style.yellow(`Killed after the grace period: ${killed.map((p) => p.instanceId).join(', ')}`));
    });
  },
});
