import {
  createEvent,
  type ConnectorConfigureReply,
  type ConnectorConfigureRequest,
  type ConnectorEntry,
  type ConnectorRemoveReply,
  type ConnectorRemoveRequest,
  type GatewayEntry,
  type TameFlareEvent,
} from '@tameflare/contracts';
import { normalizeConnector } from '@tameflare/connectors';
import type { ControlDeps } from './deps.ts';
import { ControlErrorCode, controlError } from './errors.ts';
import { applyToKv } from './streams.ts';

export const connectorStream = (gatewayId: string, connectorId: string) => `connector-${gatewayId}-${connectorId}`;
const kvKey = (gatewayId: string, connectorId: string) => `${gatewayId}.${connectorId}`;

/** The connector as its events leave it, or null when it is not configured. */
export function foldConnector(events: readonly TameFlareEvent[]): ConnectorEntry | null {
  let c: ConnectorEntry | null = null;
  for (const e of events) {
    if (e.type === 'ConnectorConfigured') {
      const { configuredBy: _by, ...entry } = e.data;
      c = entry;
    } else if (e.type === 'ConnectorRemoved') c = null;
  }
  return c;
}

const same = (a: ConnectorEntry, b: ConnectorEntry) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Enables (or reconfigures) a connector on a gateway: validated as the ingress's classifier will
 * read it, recorded as `ConnectorConfigured`, then put in KV `tf_connectors/<gateway>.<connector>`.
 *
 * @throws `TF_ERR_CONTROL_INVALID` for a connector the classifier would refuse (unknown kind, bad domain...);
 * `TF_ERR_CONTROL_UNKNOWN_GATEWAY`.
 */
export async function configureConnector(deps: ControlDeps, req: ConnectorConfigureRequest, traceparent?: string): Promise<ConnectorConfigureReply> {
  const { actor, ...entry } = req;
  try {
    normalizeConnector(entry, `connector ${req.connectorId}`);
  } catch (err) {
    throw controlError(ControlErrorCode.Invalid, (err as Error).message, { cause: err });
  }
  const gateway = await deps.kv.gateways.get<GatewayEntry>(req.gatewayId);
  if (!gateway) throw controlError(ControlErrorCode.UnknownGateway, `gateway "${req.gatewayId}" does not exist`, { details: { gatewayId: req.gatewayId } });
  const stream = connectorStream(req.gatewayId, req.connectorId);
  const state = await deps.streams.read(stream);
  const current = foldConnector(state.events);
  if (!current || !same(current, entry)) {
    const event = createEvent('ConnectorConfigured', { ...entry, configuredBy: actor }, { correlationId: `${req.gatewayId}.${req.connectorId}`, source: deps.source, traceparent: traceparent ?? null });
    await deps.streams.append(stream, [event], state.version);
    deps.log.info({ gatewayId: req.gatewayId, connectorId: req.connectorId, kind: req.kind }, 'connector configured');
  }
  await applyToKv(`connector ${req.connectorId}`, () => deps.kv.connectors.put(kvKey(req.gatewayId, req.connectorId), entry));
  return { gatewayId: req.gatewayId, connectorId: req.connectorId, kind: req.kind, domains: req.domains, created: current === null };
}

/**
 * Removes a connector (`ConnectorRemoved`, then the KV delete): its domains are no longer served.
 *
 * @throws `TF_ERR_CONTROL_UNKNOWN_CONNECTOR`
 */
export async function removeConnector(deps: ControlDeps, req: ConnectorRemoveRequest, traceparent?: string): Promise<ConnectorRemoveReply> {
  const stream = connectorStream(req.gatewayId, req.connectorId);
  const state = await deps.streams.read(stream);
  if (!foldConnector(state.events)) {
    await applyToKv(`connector ${req.connectorId}`, () => deps.kv.connectors.delete(kvKey(req.gatewayId, req.connectorId)));
    throw controlError(ControlErrorCode.UnknownConnector, `connector "${req.connectorId}" is not configured on gateway "${req.gatewayId}"`, { details: { gatewayId: req.gatewayId, connectorId: req.connectorId } });
  }
  const event = createEvent('ConnectorRemoved', { gatewayId: req.gatewayId, connectorId: req.connectorId, removedBy: req.actor }, { correlationId: `${req.gatewayId}.${req.connectorId}`, source: deps.source, traceparent: traceparent ?? null });
  await deps.streams.append(stream, [event], state.version);
  await applyToKv(`connector ${req.connectorId}`, () => deps.kv.connectors.delete(kvKey(req.gatewayId, req.connectorId)));
  deps.log.info({ gatewayId: req.gatewayId, connectorId: req.connectorId }, 'connector removed');
  return { gatewayId: req.gatewayId, connectorId: req.connectorId, removed: true };
}
