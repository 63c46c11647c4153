/** The skeleton every TameFlare service follows: config, telemetry, NATS, health, graceful shutdown. */
export { runService, ServiceExitCode, type BaseConfig, type RunServiceOptions, type ServiceContext, type ServiceHandle } from './run-service.ts';
export { startHealthServer, type ReadinessReport } from './health-server.ts';
