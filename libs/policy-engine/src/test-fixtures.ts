import { createEvent, uuidv7, type Action, type EventEnvelope } from '@tameflare/contracts';
import type { EvaluationInput } from './types.ts';

/** Test helpers: evaluation inputs and recorded events with sensible defaults. */

export const RUN_ID = '01900000-0000-7000-8000-000000000001';

export function action(type: string, over: Partial<Action> = {}): Action {
  return { type, connector: type.split('.')[0]!, resource: null, params: {}, risk: 'write', notes: [], ...over };
}

export function input(type: string, over: Partial<Omit<EvaluationInput, 'action'>> & { action?: Partial<Action> } = {}): EvaluationInput {
  const { action: a, ...rest } = over;
  return {
    action: action(type, a),
    agent: { id: 'agent-1', name: 'Agent one' },
    runId: RUN_ID,
    gatewayId: 'default',
    request: { method: 'POST', scheme: 'https', host: 'api.example.com', port: 443, path: '/', query: '' },
    time: '2025-06-02T09:30:00.000Z',
    session: {},
    ...rest,
  };
}

/** An ActionRequested envelope for an action, as the ingress records it. */
export function requestedEvent(a: Action, options: { agentId?: string; runId?: string; gatewayId?: string; time?: Date; actionId?: string } = {}): EventEnvelope<'ActionRequested'> {
  const time = options.time ?? new Date('2025-06-02T09:30:00.000Z');
  const actionId = options.actionId ?? uuidv7(time.getTime());
  return createEvent(
    'ActionRequested',
    {
      actionId,
      gatewayId: options.gatewayId ?? 'default',
      agentId: options.agentId ?? 'agent-1',
      runId: options.runId ?? RUN_ID,
      agentName: options.agentId ?? 'agent-1',
      ingressId: 'ingress-1',
      connectionId: 'conn-1',
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'api.example.com',
        port: 443,
        path: '/x',
        query: '',
        contentType: null,
        contentLength: null,
        bodyDigest: null,
        bodyTruncated: false,
        userAgent: null,
      },
      action: a,
      classifierVersion: 'test',
      requestDigest: '0'.repeat(64),
    },
    { correlationId: actionId, source: 'test@1', time },
  );
}
