/** The logger the service writes to (pino's signature). Never given a credential. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Where "now" comes from; real time in production and in tests. */
export type Clock = () => Date;
