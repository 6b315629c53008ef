import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/loadConfig';

export type { Logger } from 'pino';

/**
 * Every place a credential can hide in a log object. pino removes them before serialising,
 * so a careless `log.info({ headers })` still cannot leak a token.
 */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  '*.token',
  'headers["x-auth-token"]',
  'headers.authorization',
  'headers.cookie',
  '*.headers["x-auth-token"]',
  '*.headers.authorization',
  '*.headers.cookie',
  'req.headers["x-auth-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** The process logger: JSON lines on stdout (pino), with credentials redacted. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cse-jobs-gateway' },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    },
    destination,
  );
}
