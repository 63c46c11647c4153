import type { NatsUser } from '@tameflare/contracts';
import { StackError, StackErrorCode } from './errors.ts';
import { readPrivateFile, type StatePaths } from './state-dir.ts';

/** The NATS passwords of a stack that was started, or a NotRunning error when there are none. */
export function readNatsPasswords(paths: StatePaths): Record<NatsUser, string> {
  const text = readPrivateFile(paths.natsPasswords);
  if (text === null) throw new StackError(StackErrorCode.NotRunning, `no stack was ever started in ${paths.root}`, { hint: 'run tf up' });
  return JSON.parse(text) as Record<NatsUser, string>;
}
