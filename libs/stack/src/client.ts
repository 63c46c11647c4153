/**
 * The light part of `@tameflare/stack`, for clients of a running stack (`tf run`, `tf kill`,
 * `tf status`): find it, check its processes, connect to its NATS as admin. Nothing here loads
 * the database, audit or vault libraries, so a CLI command that only talks to the stack starts fast.
 */
export { StackError, StackErrorCode, type StackErrorCodeValue } from './errors.ts';
export { resolveStateDir, statePaths, readPrivateFile, type StatePaths } from './state-dir.ts';
export { connectAdmin, runningStack, readAdminToken } from './connect-admin.ts';
export { readStackFile, redactUrl, type StackInfo, type StackProcess } from './stack-file.ts';
export { isOurProcess, type StopOutcome } from './processes.ts';
export { readNatsPasswords } from './nats-passwords.ts';
export { localActor } from './local-actor.ts';
export { stopStack, type StopStackResult } from './stop-stack.ts';
export { stackStatus, type StackStatus, type ProcessStatus } from './stack-status.ts';
export type { ServiceName } from './services.ts';
