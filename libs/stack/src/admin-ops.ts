import {
  Commands,
  type ConnectorConfigureReply,
  type CredentialInjection,
  type VaultPublicKeyReply,
  type VaultSecretPutReply,
} from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { sealSecretValue } from '@tameflare/vault-crypto';

/**
 * Stores a secret in the vault the way `tf secret set` does: the value is sealed to the
 * vault's transport key here and never crosses NATS in clear.
 */
export async function setSecret(bus: Bus, o: { gatewayId: string; name: string; value: string; actor: string }): Promise<VaultSecretPutReply> {
  const key = await bus.request<VaultPublicKeyReply>(Commands.vaultPublicKey, {});
  const box = sealSecretValue(o.value, key.publicKey, { gatewayId: o.gatewayId, name: o.name });
  return bus.request<VaultSecretPutReply>(Commands.vaultSecretPut, { gatewayId: o.gatewayId, name: o.name, box, source: 'api', actor: o.actor, mode: 'set' });
}

/** Enables a connector on a gateway through the control service (recorded as ConnectorConfigured). */
export function configureConnector(
  bus: Bus,
  o: { gatewayId: string; connectorId: string; kind: string; secretName: string | null; actor: string; injection?: CredentialInjection | null; domains?: string[] },
): Promise<ConnectorConfigureReply> {
  return bus.request<ConnectorConfigureReply>(Commands.connectorConfigure, {
    gatewayId: o.gatewayId,
    connectorId: o.connectorId,
    kind: o.kind,
    secretName: o.secretName,
    injection: o.injection === undefined ? (o.secretName ? { kind: 'bearer' } : null) : o.injection,
    domains: o.domains ?? [],
    options: {},
    actor: o.actor,
  });
}
