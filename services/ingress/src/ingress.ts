import { createIngressKeyPair } from '@tameflare/vault-crypto';
import type { Bus } from '@tameflare/messaging';
import { createProxyServer, loadOrCreateCa, type ProxyLogger, type ProxyServer } from '@tameflare/proxy';
import { startApprovalHold } from './approval-hold.ts';
import { limitsOf, overridesOf, stateDirOf, timeoutsOf, upstreamCaOf, type IngressSettings } from './config.ts';
import { startConnectorRoutes } from './connector-routes.ts';
import { createDecisionClient } from './decision-client.ts';
import { createEventOutbox } from './event-outbox.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startKillSwitchSync } from './kill-switch-sync.ts';
import { startRunDirectory } from './run-directory.ts';

export interface IngressDeps {
  bus: Bus;
  settings: IngressSettings;
  /** This replica's id: on its events, heartbeats and kill-switch acknowledgements. */
  ingressId: string;
  logger: ProxyLogger;
}

export interface Ingress {
  readonly ingressId: string;
  readonly proxy: ProxyServer;
  /** `http://host:port` agents use as their proxy. */
  readonly url: string;
  readonly caCertPem: string;
  /** Stops taking requests and lets in-flight ones finish for `graceMs`, then stops everything. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Wires the proxy engine to the control plane: run tokens from KV `tf_runs`, connectors from
 * `tf_connectors` (classified by libs/connectors), the kill switch from `tf_killswitch`,
 * decisions from the policy service with credentials sealed to this replica's ephemeral X25519
 * key, approvals from the approval service, and events to JetStream.
 */
export async function startIngress(deps: IngressDeps): Promise<Ingress> {
  const { bus, settings, ingressId, logger } = deps;
  const keys = createIngressKeyPair();
  const ingressKey = { id: ingressId, publicKey: keys.publicKey };
  const ca = await loadOrCreateCa({ stateDir: stateDirOf(settings) });
  const stops: (() => Promise<void>)[] = [];
  try {
    const runs = await startRunDirectory(bus, { onInvalid: (key, err) => logger.warn({ err, key }, 'malformed tf_runs entry ignored') });
    stops.push(() => runs.stop());
    const routes = await startConnectorRoutes(bus, {
      bodyParseLimit: settings.parseBodyBytes,
      onError: (gatewayId, err) => logger.error({ err, gatewayId }, 'connectors of this gateway cannot be compiled; its destinations are refused'),
      onInvalid: (key, err) => logger.warn({ err, key }, 'malformed tf_connectors entry ignored'),
    });
    stops.push(() => routes.stop());
    const kill = await startKillSwitchSync(bus, { ingressId, log: logger });
    stops.push(() => kill.stop());
    const approvals = await startApprovalHold(bus, {
      ingress: ingressKey,
      privateKey: keys.privateKey,
      pollMs: settings.approvalPollMs,
      requestTimeoutMs: Math.min(settings.decisionTimeoutMs, 5000),
      log: logger,
    });
    stops.push(() => approvals.stop());
    const outbox = createEventOutbox(bus, { log: logger });

    const proxy = createProxyServer({
      ingressId,
      ca,
      authenticate: (token) => runs.lookup(token),
      route: (target, identity) => routes.route(target, identity),
      classify: (input) => routes.classify(input),
      record: (event) => outbox.record(event),
      decide: createDecisionClient(bus, { ingress: ingressKey, privateKey: keys.privateKey, timeoutMs: settings.decisionTimeoutMs }),
      approvals,
      killSwitch: kill.state,
      available: () => {
        const s = bus.status();
        if (s.state === 'connected' || s.msSinceContact <= settings.controlPlaneGraceMs) return null;
        return `The control plane has been unreachable for ${Math.round(s.msSinceContact / 1000)} s`;
      },
      upstreamOverrides: overridesOf(settings),
      upstreamCa: upstreamCaOf(settings),
      allowedPorts: settings.allowedPorts,
      upstreamHttp2: settings.upstreamHttp2,
      egressRanges: { deny: settings.denyCidrs, allow: settings.allowCidrs },
      timeouts: timeoutsOf(settings),
      limits: limitsOf(settings),
      logger,
    });
    await proxy.listen(settings.port, settings.host);
    kill.attach(() => proxy.enforceKillSwitch());
    const url = proxy.url;
    const heartbeat = await startHeartbeat(bus, { ingressId, proxyUrl: settings.publicUrl ?? url, intervalMs: settings.heartbeatMs, log: logger });
    logger.info({ url, ca: ca.certPath, caFingerprint: ca.fingerprint256 }, 'ingress listening');
    let stopped: Promise<void> | null = null;
    return {
      ingressId,
      proxy,
      url,
      caCertPem: ca.certPem,
      stop(graceMs = 10_000) {
        stopped ??= (async () => {
          await heartbeat.stop();
          await proxy.close({ graceMs });
          await outbox.flush(Math.min(graceMs, 5000));
          for (const s of stops.reverse()) await s().catch(() => undefined);
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw err;
  }
}
