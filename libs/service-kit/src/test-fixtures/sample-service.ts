/**
 * A minimal service on the kit, run as a child process by the tests:
 * - `tf.cmd.sample.work` (queue `sample`): waits `ms`, then replies `{ done: n }`; publishes
 *   `sample.started` when it begins, so a test knows the request is in flight;
 * - `tf.cmd.sample.ready`: sets the service's own readiness.
 */
import { Type } from '@sinclair/typebox';
import { Duration } from '@tameflare/config';
import { runService } from '../index.ts';

await runService({
  name: 'sample',
  configSchema: Type.Object({ sampleStartDelayMs: Duration({ default: 0 }) }),
  shutdownTimeoutMs: Number(process.env.SAMPLE_SHUTDOWN_TIMEOUT_MS ?? 5000),
  async start(ctx) {
    await new Promise((r) => setTimeout(r, ctx.config.sampleStartDelayMs));
    await ctx.bus.serve({ subject: 'tf.cmd.sample.work', queue: 'sample' }, async (p: { n: number; ms: number }) => {
      ctx.bus.publish('sample.started', { n: p.n, pid: process.pid });
      await new Promise((r) => setTimeout(r, p.ms));
      return { done: p.n, pid: process.pid };
    });
    await ctx.bus.serve({ subject: 'tf.cmd.sample.ready', queue: 'sample' }, (p: { ready: boolean }) => {
      ctx.setReady(p.ready, 'told so');
      return { ok: true };
    });
    ctx.onShutdown(() => ctx.logger.info('shutdown hook ran'));
  },
});
