import { Commands } from '@tameflare/contracts';
import type { Bus, Listener } from '@tameflare/messaging';
import { decodeList, decodePut, decodeRelease, decodeRevoke, decodeRotate } from './payloads.ts';
import type { Vault } from './vault.ts';

/** Answers every vault command in queue group `vault`, so replicas share the load. */
export async function serveVault(bus: Bus, vault: Vault): Promise<Listener[]> {
  const q = (c: { subject: string; queue: string }) => ({ subject: c.subject, queue: c.queue });
  return Promise.all([
    bus.serve({ ...q(Commands.vaultRelease), decode: decodeRelease }, (req: ReturnType<typeof decodeRelease>, ctx) => vault.release(req, ctx)),
    bus.serve({ ...q(Commands.vaultSecretPut), decode: decodePut }, (req: ReturnType<typeof decodePut>, ctx) => vault.putSecret(req, ctx)),
    bus.serve({ ...q(Commands.vaultSecretList), decode: decodeList }, (req: ReturnType<typeof decodeList>) => vault.listSecrets(req)),
    bus.serve({ ...q(Commands.vaultSecretRevoke), decode: decodeRevoke }, (req: ReturnType<typeof decodeRevoke>, ctx) => vault.revokeSecret(req, ctx)),
    bus.serve({ ...q(Commands.vaultMasterKeyRotate), decode: decodeRotate }, (req: ReturnType<typeof decodeRotate>, ctx) => vault.rotateMasterKey(req, ctx)),
    bus.serve(q(Commands.vaultPublicKey), () => vault.publicKey()),
  ]);
}
