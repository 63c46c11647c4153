import { createEvent, uuidv7, type TameFlareEvent } from '@tameflare/contracts';

/** A valid GatewayCreated event (subject `tf.evt.gateway.created.<gatewayId>`). */
export function gatewayCreated(gatewayId = 'gw-test', id?: string): TameFlareEvent {
  return createEvent(
    'GatewayCreated',
    { gatewayId, name: `Gateway ${gatewayId}`, mode: 'enforce', createdBy: 'tests' },
    { correlationId: uuidv7(), source: 'messaging-tests@local', ...(id ? { id } : {}) },
  );
}
