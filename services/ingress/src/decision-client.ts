import type { KeyObject } from 'node:crypto';
import {
  decoder,
  Commands,
  ContractError,
  ContractErrorCode,
  DecideReplySchema,
  validateEvent,
  type DecideRequest,
  type EventEnvelope,
  type IngressKey,
  type SealedCredential,
} from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import type { DecideResult, ReleasedCredential } from '@tameflare/proxy';
import { openCredential } from '@tameflare/vault-crypto';

const decodeReply = decoder(DecideReplySchema, 'the policy reply');

/** Opens a credential the vault sealed to this ingress for one action. */
export function unseal(credential: SealedCredential, privateKey: KeyObject, binding: { actionId: string; ingressId: string }): ReleasedCredential {
  return {
    secretName: credential.secretName,
    secretVersion: credential.secretVersion,
    injection: credential.injection,
    value: openCredential(credential, privateKey, binding),
  };
}

/**
 * `decide` over NATS: `tf.cmd.policy.decide` with the ActionRequested event and this instance's
 * X25519 public key. The reply's decision is checked against the contract and the action; its
 * credential, sealed to this process only, is opened here and nowhere else.
 */
export function createDecisionClient(bus: Bus, options: { ingress: IngressKey; privateKey: KeyObject; timeoutMs: number }) {
  return async (requested: EventEnvelope<'ActionRequested'>): Promise<DecideResult> => {
    const payload: DecideRequest = { requested, ingress: options.ingress };
    const reply = decodeReply(await bus.request(Commands.policyDecide, payload, { timeoutMs: options.timeoutMs }));
    const decided = validateEvent(reply.decided);
    if (decided.type !== 'ActionDecided' || decided.data.actionId !== requested.data.actionId) {
      throw new ContractError(ContractErrorCode.Schema, `the policy reply is not the decision for action ${requested.data.actionId}`);
    }
    return {
      decided,
      credential: reply.credential ? unseal(reply.credential, options.privateKey, { actionId: requested.data.actionId, ingressId: options.ingress.id }) : null,
      approval: reply.approval,
    };
  };
}
