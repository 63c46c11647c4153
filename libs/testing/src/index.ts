export { freePort, waitFor } from './ports.ts';
export { startNatsServer, natsServerBin, type TestNatsServer, type TestNatsServerOptions } from './nats-server.ts';
export { createTestDatabase, adminPgUrl, type TestDatabase } from './postgres.ts';
