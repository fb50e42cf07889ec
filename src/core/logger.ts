// The structured logger every floor writes to: the part of pino's interface the gateway uses
// (telemetry/logger.ts creates the pino logger; a test may pass any object of this shape).

export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
