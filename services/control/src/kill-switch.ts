import {
  createEvent,
  killSwitchScopeKey,
  uuidv7,
  type KillSwitchCommand,
  type KillSwitchEntry,
  type KillSwitchReply,
  type KillSwitchScope,
  type TameFlareEvent,
} from '@tameflare/contracts';
import type { AckCollector, TimedAck } from './ack-collector.ts';
import type { ControlDeps } from './deps.ts';
import { ControlErrorCode, controlError } from './errors.ts';
import type { LiveInstances } from './live-instances.ts';
import { applyToKv } from './streams.ts';

export const killSwitchStream = (scope: KillSwitchScope) => `killswitch-${killSwitchScopeKey(scope)}`;
export const killSwitchAckStream = (killSwitchId: string) => `killswitch-ack-${killSwitchId}`;

export interface KillSwitchDeps extends ControlDeps {
  acks: AckCollector;
  instances: LiveInstances;
  /** Longest wait for every live replica to acknowledge. */
  ackTimeoutMs: number;
  /** How long acknowledgements that arrive after the reply are still recorded. */
  lateAckWindowMs: number;
}

/** The switch engaged on a scope, as its events say, or null when released (or never engaged). */
export function foldKillSwitch(events: readonly TameFlareEvent[]): KillSwitchEntry | null {
  let engaged: KillSwitchEntry | null = null;
  for (const e of events) {
    if (e.type === 'KillSwitchEngaged') {
      engaged = { killSwitchId: e.data.killSwitchId, scope: e.data.scope, reason: e.data.reason, engagedBy: e.data.engagedBy, engagedAt: e.time };
    } else if (e.type === 'KillSwitchReleased') engaged = null;
  }
  return engaged;
}

/**
 * Engages a kill switch: `KillSwitchEngaged` in the event store, then KV `tf_killswitch/<scope>`,
 * which every ingress replica watches. Waits (bounded) for an acknowledgement from each live
 * replica, records one `KillSwitchAcknowledged` per replica, and answers which replicas applied
 * it and how long after the command the slowest did.
 *
 * A retry after a failed KV write finishes the earlier engage instead of failing.
 *
 * @throws `TF_ERR_CONTROL_KILLSWITCH_ENGAGED` when the scope is already engaged (details: the switch).
 */
export async function engageKillSwitch(deps: KillSwitchDeps, cmd: KillSwitchCommand, startedAt: number, traceparent?: string): Promise<KillSwitchReply> {
  const key = killSwitchScopeKey(cmd.scope);
  const stream = killSwitchStream(cmd.scope);
  const state = await deps.streams.read(stream);
  let entry = foldKillSwitch(state.events);
  if (entry) {
    const inKv = await deps.kv.killSwitch.get<KillSwitchEntry>(key);
    if (inKv?.value.killSwitchId === entry.killSwitchId) {
      throw controlError(ControlErrorCode.KillSwitchEngaged, `the kill switch on ${key} is already engaged: ${entry.reason}`, {
        details: { scope: entry.scope, killSwitchId: entry.killSwitchId, reason: entry.reason },
      });
    }
  } else {
    const killSwitchId = uuidv7();
    const reason = cmd.reason?.trim() || `Kill switch engaged by ${cmd.actor}`;
    const event = createEvent('KillSwitchEngaged', { killSwitchId, scope: cmd.scope, reason, engagedBy: cmd.actor }, { correlationId: killSwitchId, source: deps.source, traceparent: traceparent ?? null });
    await deps.streams.append(stream, [event], state.version);
    entry = { killSwitchId, scope: cmd.scope, reason, engagedBy: cmd.actor, engagedAt: event.time };
  }
  const engaged = entry;
  const reply = await applyAndCollect(deps, engaged, 'engaged', startedAt, () => deps.kv.killSwitch.put(key, engaged), traceparent);
  deps.log.warn({ killSwitchId: engaged.killSwitchId, scope: key, acknowledged: reply.acknowledgements.length, expected: reply.expected, tookEffectMs: reply.tookEffectMs }, 'kill switch engaged');
  return reply;
}

/**
 * Releases a kill switch: `KillSwitchReleased`, then the KV delete; acknowledgements as for engage.
 *
 * @throws `TF_ERR_CONTROL_KILLSWITCH_NOT_ENGAGED` when nothing is engaged on the scope.
 */
export async function releaseKillSwitch(deps: KillSwitchDeps, cmd: KillSwitchCommand, startedAt: number, traceparent?: string): Promise<KillSwitchReply> {
  const key = killSwitchScopeKey(cmd.scope);
  const stream = killSwitchStream(cmd.scope);
  const state = await deps.streams.read(stream);
  let released = foldKillSwitch(state.events);
  if (!released) {
    const inKv = await deps.kv.killSwitch.get<KillSwitchEntry>(key);
    if (!inKv) {
      throw controlError(ControlErrorCode.KillSwitchNotEngaged, `no kill switch is engaged on ${key}`, { details: { scope: cmd.scope, killSwitchId: null, reason: null } });
    }
    // Recorded as released, but a failed KV delete left it in force: finish that release.
    released = inKv.value;
  } else {
    const event = createEvent('KillSwitchReleased', { killSwitchId: released.killSwitchId, scope: cmd.scope, releasedBy: cmd.actor }, {
      correlationId: released.killSwitchId,
      source: deps.source,
      traceparent: traceparent ?? null,
    });
    await deps.streams.append(stream, [event], state.version);
  }
  const reply = await applyAndCollect(deps, released, 'released', startedAt, () => deps.kv.killSwitch.delete(key), traceparent);
  deps.log.warn({ killSwitchId: released.killSwitchId, scope: key, acknowledged: reply.acknowledgements.length, expected: reply.expected, tookEffectMs: reply.tookEffectMs }, 'kill switch released');
  return reply;
}

async function applyAndCollect(
  deps: KillSwitchDeps,
  entry: KillSwitchEntry,
  state: 'engaged' | 'released',
  startedAt: number,
  write: () => Promise<unknown>,
  traceparent: string | undefined,
): Promise<KillSwitchReply> {
  const expected = deps.instances.ingress();
  const record = (acks: TimedAck[]) =>
    deps.streams.append(
      killSwitchAckStream(entry.killSwitchId),
      acks.map((a) =>
        createEvent(
          'KillSwitchAcknowledged',
          { killSwitchId: entry.killSwitchId, scope: entry.scope, state, ingressId: a.ingressId, latencyMs: a.latencyMs, cutConnections: a.cutConnections },
          { correlationId: entry.killSwitchId, source: deps.source, traceparent: traceparent ?? null },
        ),
      ),
      'any',
    );
  const wait = deps.acks.expect({
    killSwitchId: entry.killSwitchId,
    state,
    expected,
    startedAt,
    timeoutMs: deps.ackTimeoutMs,
    lateWindowMs: deps.lateAckWindowMs,
    onLate: (ack) => {
      deps.log.warn({ killSwitchId: entry.killSwitchId, ingressId: ack.ingressId, latencyMs: ack.latencyMs }, 'late kill switch acknowledgement');
      record([ack]).catch((err) => deps.log.error({ err, killSwitchId: entry.killSwitchId }, 'could not record a late kill switch acknowledgement'));
    },
  });
  try {
    await applyToKv(`kill switch ${killSwitchScopeKey(entry.scope)}`, write);
  } catch (err) {
    wait.close();
    throw err;
  }
  const acks = await wait.done;
  if (acks.length) await record(acks);
  const missing = expected.filter((id) => !acks.some((a) => a.ingressId === id));
  if (missing.length) deps.log.error({ killSwitchId: entry.killSwitchId, state, missing }, 'ingress replicas did not acknowledge the kill switch in time');
  return {
    killSwitchId: entry.killSwitchId,
    state,
    expected: expected.length,
    acknowledgements: acks.map((a) => ({ ingressId: a.ingressId, latencyMs: a.latencyMs, cutConnections: a.cutConnections })),
    tookEffectMs: acks.length ? Math.max(...acks.map((a) => a.latencyMs)) : null,
  };
}
