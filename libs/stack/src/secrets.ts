import { randomBytes } from 'node:crypto';
import { natsUsers, type NatsUser } from '@tameflare/contracts';
import { generateMasterKey } from '@tameflare/vault-crypto';
import { StackError, StackErrorCode } from './errors.ts';
import { readPrivateFile, writePrivateFile, type StatePaths } from './state-dir.ts';

/** One password per NATS user of the permission matrix, created on first start and kept (0600). */
export { readNatsPasswords } from './nats-passwords.ts';

export function loadOrCreateNatsPasswords(paths: StatePaths): Record<NatsUser, string> {
  const text = readPrivateFile(paths.natsPasswords);
  let current: Partial<Record<NatsUser, string>> = {};
  if (text !== null) {
    try {
      current = JSON.parse(text) as Partial<Record<NatsUser, string>>;
    } catch (cause) {
      throw new StackError(StackErrorCode.State, `${paths.natsPasswords} is not valid JSON`, { cause, hint: `remove it and run tf up again (NATS passwords are regenerated)` });
    }
  }
  const missing = natsUsers.filter((u) => typeof current[u] !== 'string');
  if (missing.length) {
    for (const u of missing) current[u] = randomBytes(24).toString('base64url');
    writePrivateFile(paths.natsPasswords, JSON.stringify(current, null, 2) + '\n');
  }
  return current as Record<NatsUser, string>;
}

/** Creates the vault master key (base64 of 32 random bytes, 0600) unless it exists. Returns its path. */
export function ensureMasterKey(paths: StatePaths): { path: string; created: boolean } {
  if (readPrivateFile(paths.masterKey) !== null) return { path: paths.masterKey, created: false };
  writePrivateFile(paths.masterKey, generateMasterKey() + '\n');
  return { path: paths.masterKey, created: true };
}
