import type { Bus, KvBucket } from '@tameflare/messaging';
import type { ControlStreams } from './streams.ts';

/** The minimal logger the control commands report to (pino's signature). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What every control command works with. */
export interface ControlDeps {
  bus: Bus;
  streams: ControlStreams;
  kv: {
    runs: KvBucket;
    gateways: KvBucket;
    connectors: KvBucket;
    apiTokens: KvBucket;
    killSwitch: KvBucket;
  };
  /** `control@<instance>`: the `source` of every event. */
  source: string;
  log: Logger;
}
