import { createEvent, type GatewayCommand, type GatewayEntry, type GatewayReply, type TameFlareEvent } from '@tameflare/contracts';
import type { ControlDeps } from './deps.ts';
import { ControlErrorCode, controlError } from './errors.ts';
import { applyToKv } from './streams.ts';

export const gatewayStream = (gatewayId: string) => `gateway-${gatewayId}`;

/** A gateway as its events say it is, or null when it was never created. */
export function foldGateway(events: readonly TameFlareEvent[]): GatewayEntry | null {
  let g: GatewayEntry | null = null;
  for (const e of events) {
    if (e.type === 'GatewayCreated') g = { gatewayId: e.data.gatewayId, name: e.data.name, mode: e.data.mode };
    else if (e.type === 'GatewayModeChanged' && g !== null) g = { gatewayId: g.gatewayId, name: g.name, mode: e.data.mode };
  }
  return g;
}

/**
 * Creates a gateway (`GatewayCreated`, then KV `tf_gateways`). Creating one that exists with the
 * same mode is a no-op answered `created: false`, so `tf up` can run it at every start.
 *
 * @throws `TF_ERR_CONTROL_GATEWAY_EXISTS` when it exists with another mode.
 */
export async function createGateway(deps: ControlDeps, cmd: GatewayCommand, traceparent?: string): Promise<GatewayReply> {
  const stream = gatewayStream(cmd.gatewayId);
  const state = await deps.streams.read(stream);
  const current = foldGateway(state.events);
  if (current) {
    if (current.mode !== cmd.mode) {
      throw controlError(ControlErrorCode.GatewayExists, `gateway "${cmd.gatewayId}" already exists in ${current.mode} mode`, { details: { ...current } });
    }
    await applyToKv(`gateway ${cmd.gatewayId}`, () => deps.kv.gateways.put(cmd.gatewayId, current));
    return { ...current, created: false };
  }
  const name = cmd.name ?? cmd.gatewayId;
  const event = createEvent('GatewayCreated', { gatewayId: cmd.gatewayId, name, mode: cmd.mode, createdBy: cmd.actor }, { correlationId: cmd.gatewayId, source: deps.source, traceparent: traceparent ?? null });
  await deps.streams.append(stream, [event], state.version);
  const entry: GatewayEntry = { gatewayId: cmd.gatewayId, name, mode: cmd.mode };
  await applyToKv(`gateway ${cmd.gatewayId}`, () => deps.kv.gateways.put(cmd.gatewayId, entry));
  deps.log.info({ gatewayId: cmd.gatewayId, mode: cmd.mode }, 'gateway created');
  return { ...entry, created: true };
}

/**
 * Switches a gateway between `enforce` and `monitor` (`GatewayModeChanged`, then KV).
 *
 * @throws `TF_ERR_CONTROL_UNKNOWN_GATEWAY`
 */
export async function setGatewayMode(deps: ControlDeps, cmd: GatewayCommand, traceparent?: string): Promise<GatewayReply> {
  const stream = gatewayStream(cmd.gatewayId);
  const state = await deps.streams.read(stream);
  const current = foldGateway(state.events);
  if (!current) throw controlError(ControlErrorCode.UnknownGateway, `gateway "${cmd.gatewayId}" does not exist`, { details: { gatewayId: cmd.gatewayId } });
  let entry = current;
  if (current.mode !== cmd.mode) {
    const event = createEvent('GatewayModeChanged', { gatewayId: cmd.gatewayId, mode: cmd.mode, changedBy: cmd.actor }, { correlationId: cmd.gatewayId, source: deps.source, traceparent: traceparent ?? null });
    await deps.streams.append(stream, [event], state.version);
    entry = { ...current, mode: cmd.mode };
    deps.log.info({ gatewayId: cmd.gatewayId, mode: cmd.mode }, 'gateway mode changed');
  }
  await applyToKv(`gateway ${cmd.gatewayId}`, () => deps.kv.gateways.put(cmd.gatewayId, entry));
  return { ...entry, created: false };
}
