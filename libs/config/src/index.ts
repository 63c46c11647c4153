/** Typed configuration from an optional YAML/JSON file and environment variables. */
export { loadConfig, describeConfig, variableName, type LoadConfigOptions } from './load-config.ts';
export { ConfigError, ConfigErrorCode, type ConfigProblem } from './errors.ts';
export { Duration, Secret, type ConfigKeywords } from './schema.ts';
export { parseDuration } from './duration.ts';
export { NatsConfigSchema, DatabaseConfigSchema, HealthConfigSchema, LogLevelSchema, ServiceConfigSchema } from './fragments.ts';
