/**
 * The local stack: everything `tf up`, `tf down`, `tf status` and the e2e harness need to run
 * TameFlare on one machine over a private nats-server and the local PostgreSQL.
 */
export { StackError, StackErrorCode, type StackErrorCodeValue } from './errors.ts';
export { resolveStateDir, statePaths, ensurePrivateDir, writePrivateFile, readPrivateFile, type StatePaths } from './state-dir.ts';
export { localActor } from './local-actor.ts';
export { startStack, type StartStackOptions, type StartStackResult, type StackProgress } from './start-stack.ts';
export { stopStack, type StopStackResult } from './stop-stack.ts';
export { stackStatus, type StackStatus, type ProcessStatus } from './stack-status.ts';
export { connectAdmin, runningStack, readAdminToken } from './connect-admin.ts';
export { readStackFile, redactUrl, type StackInfo, type StackProcess } from './stack-file.ts';
export { SERVICE_NAMES, REPO_ROOT, serviceMain, type ServiceName } from './services.ts';
export { defaultDatabaseUrl, dropDatabase } from './database.ts';
export { natsServerBinary } from './nats.ts';
export { readNatsPasswords } from './nats-passwords.ts';
export { isOurProcess, type StopOutcome } from './processes.ts';
export { freePort } from './ports.ts';
export type { BootstrapResult } from './bootstrap.ts';
export { setSecret, configureConnector } from './admin-ops.ts';
