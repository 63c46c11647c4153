import { Buckets, Commands } from '@tameflare/contracts';
import type { EventStore } from '@tameflare/event-store';
import type { Bus, Listener } from '@tameflare/messaging';
import { startAckCollector } from './ack-collector.ts';
import { configureConnector, removeConnector } from './connectors.ts';
import type { ControlDeps, Logger } from './deps.ts';
import { createGateway, setGatewayMode } from './gateways.ts';
import { engageKillSwitch, releaseKillSwitch, type KillSwitchDeps } from './kill-switch.ts';
import { watchLiveInstances } from './live-instances.ts';
import {
  decodeConnectorConfigure,
  decodeConnectorRemove,
  decodeGateway,
  decodeKillSwitch,
  decodeRunEnd,
  decodeRunStart,
  decodeTokenIssue,
  decodeTokenRevoke,
} from './payloads.ts';
import { endRun, startRun } from './runs.ts';
import { controlStreams } from './streams.ts';
import { issueToken, revokeToken } from './tokens.ts';

export interface ControlServiceOptions {
  bus: Bus;
  store: EventStore;
  instanceId: string;
  logger: Logger;
  /** Longest wait for kill-switch acknowledgements (default 2 s). */
  ackTimeoutMs?: number;
  /** Acknowledgements after the reply are still recorded this long (default 30 s). */
  lateAckWindowMs?: number;
  /** TTL of `tf_instances` entries (default 15 s, the bucket's). */
  instancesTtlMs?: number;
}

export interface ControlService {
  stop(): Promise<void>;
}

/**
 * Serves every `tf.cmd.control.*` command in queue group `control` (any number of replicas) and
 * collects kill-switch acknowledgements. KV buckets must exist (`tf up` creates them).
 */
export async function startControlService(o: ControlServiceOptions): Promise<ControlService> {
  const { bus } = o;
  const [runs, gateways, connectors, apiTokens, killSwitch] = await Promise.all(
    [Buckets.runs, Buckets.gateways, Buckets.connectors, Buckets.apiTokens, Buckets.killSwitch].map((b) => bus.kv(b)),
  );
  const deps: ControlDeps = {
    bus,
    streams: controlStreams(o.store),
    kv: { runs: runs!, gateways: gateways!, connectors: connectors!, apiTokens: apiTokens!, killSwitch: killSwitch! },
    source: `control@${o.instanceId}`,
    log: o.logger,
  };
  const instances = await watchLiveInstances(bus, {
    ttlMs: o.instancesTtlMs ?? 15_000,
    onInvalid: (key, err) => o.logger.warn({ key, err }, 'malformed tf_instances entry ignored'),
  });
  const acks = await startAckCollector(bus, o.logger);
  const ks: KillSwitchDeps = { ...deps, acks, instances, ackTimeoutMs: o.ackTimeoutMs ?? 2000, lateAckWindowMs: o.lateAckWindowMs ?? 30_000 };

  const listeners: Listener[] = await Promise.all([
    bus.serve({ ...Commands.runStart, decode: decodeRunStart }, (req, ctx) => startRun(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.runEnd, decode: decodeRunEnd }, (req, ctx) => endRun(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.killSwitchEngage, decode: decodeKillSwitch }, (req, ctx) => engageKillSwitch(ks, req, performance.now(), ctx.traceparent)),
    bus.serve({ ...Commands.killSwitchRelease, decode: decodeKillSwitch }, (req, ctx) => releaseKillSwitch(ks, req, performance.now(), ctx.traceparent)),
    bus.serve({ ...Commands.gatewayCreate, decode: decodeGateway }, (req, ctx) => createGateway(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.gatewaySetMode, decode: decodeGateway }, (req, ctx) => setGatewayMode(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.connectorConfigure, decode: decodeConnectorConfigure }, (req, ctx) => configureConnector(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.connectorRemove, decode: decodeConnectorRemove }, (req, ctx) => removeConnector(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.tokenIssue, decode: decodeTokenIssue }, (req, ctx) => issueToken(deps, req, ctx.traceparent)),
    bus.serve({ ...Commands.tokenRevoke, decode: decodeTokenRevoke }, (req, ctx) => revokeToken(deps, req, ctx.traceparent)),
  ]);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(listeners.map((l) => l.stop().catch(() => undefined)));
      await acks.stop().catch(() => undefined);
      await instances.stop();
    },
  };
}
