import { Buckets, type KillSwitchEntry } from '@tameflare/contracts';
import { ExitCode } from '../errors.ts';
import { defineCommand } from '../registry.ts';
import { printStackInfo } from './up.ts';

/** Engaged kill switches, read from KV; null when NATS cannot be asked. */
async function engagedSwitches(stateDir: string | undefined): Promise<KillSwitchEntry[] | null> {
  try {
    const { connectAdmin } = await import('@tameflare/stack/client');
    const { bus } = await connectAdmin(stateDir);
    try {
      const watch = await bus.watchKv<KillSwitchEntry>(Buckets.killSwitch);
      await watch.ready;
      const entries = [...watch.values.values()];
      await watch.stop();
      return entries;
    } finally {
      await bus.close();
    }
  } catch {
    return null;
  }
}

export default defineCommand({
  name: 'status',
  summary: 'show each process of the local stack, whether it is ready, and engaged kill switches',
  usage: 'tf status',
  description: `
Exit code 0 when every process is alive and ready, 1 when no stack is running, 2 when one is
running but something is down or not ready.`,
  json: true,
  examples: ['tf status', 'tf status --json | jq .processes'],
  async run(ctx) {
    const { stackStatus } = await import('@tameflare/stack/client');
    const status = await stackStatus(ctx.stateDir ? { stateDir: ctx.stateDir } : {});
    if (!status.started) {
      ctx.out.result({ ...status, killSwitches: [] }, () => ctx.out.line(`The stack is not running (state directory ${status.stateDir}). Start it with tf up.`));
      return ExitCode.User;
    }
    const killSwitches = await engagedSwitches(ctx.stateDir);
    ctx.out.result({ ...status, killSwitches }, () => {
      const s = ctx.out.style;
      ctx.out.line(status.healthy ? s.green('The stack is running and ready.') : s.red('The stack is running, but not every process is ready.'));
      printStackInfo(ctx.out, status.info!);
      ctx.out.line('');
      ctx.out.table(
        ['SERVICE', 'INSTANCE', 'PID', 'STATE', 'PORT', 'DETAIL'],
        status.processes.map((p) => [p.service, p.instanceId, p.pid, p.alive ? (p.ready ? s.green('ready') : s.yellow('not ready')) : s.red('down'), p.port, p.ready ? '' : p.detail]),
      );
      if (killSwitches === null) ctx.out.line(s.yellow('Kill switches: unknown (NATS unreachable)'));
      else if (killSwitches.length) {
        ctx.out.line('');
        for (const k of killSwitches) ctx.out.line(s.red(`Kill switch engaged on ${k.scope.kind === 'all' ? 'everything' : `${k.scope.kind} ${k.scope.value}`} since ${k.engagedAt} by ${k.engagedBy}: ${k.reason}`));
      }
    });
    return status.healthy ? ExitCode.Ok : ExitCode.System;
  },
});
