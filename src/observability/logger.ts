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
  '*.*.token',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  '["x-auth-token"]',
  '*["x-auth-token"]',
  'headers["x-auth-token"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers["x-auth-token"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  'req.headers["x-auth-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerOptions {
  /** Human-readable lines through pino-pretty (a development dependency) instead of JSON. */
  readonly pretty?: boolean;
}

/**
 * The process logger: JSON lines on stdout (pino) — `{"level":"info","time":"2026-…Z",…}` — with
 * credentials redacted. Lines written for a
 * request name it in a `requestId` field of their own (see requestScope: no implicit scope).
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'cse-jobs-gateway' },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      // What log pipelines (Loki, Elasticsearch, Cloud Logging) read without a parser of their
      // own: an ISO-8601 time and the level's name, not epoch milliseconds and pino's numbers.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.pretty === true ? prettyStream(destination) : destination,
  );
}

/** The process's logger on stdout, and how to let its last lines out before the process exits. */
export interface ProcessLogger {
  readonly logger: Logger;
  /**
   * Resolves once every line logged so far has reached stdout (or after `timeoutMs`, should stdout
   * be stuck); nothing may be logged afterwards. Call it before `process.exit`.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The logger of `npm start`. Its writes to stdout are asynchronous, so a log line never blocks the
 * event loop; the price is at exit. `process.exit` right after a line flushes the lines still
 * buffered synchronously, while an earlier line may still be with the OS (a slow reader, a full
 * pipe): the last lines then land out of order, or cut into the middle of another. `close` ends
 * the stream and waits for its writes instead.
 */
export function createProcessLogger(level: LogLevel, options: LoggerOptions = {}): ProcessLogger {
  // pino-pretty writes synchronously: nothing is left to wait for.
  if (options.pretty === true) return { logger: createLogger(level, undefined, options), close: () => Promise.resolve() };
  const stdout = pino.destination({ dest: 1, sync: false });
  return { logger: createLogger(level, stdout), close: (timeoutMs) => endStream(stdout, timeoutMs) };
}

function endStream(stream: ReturnType<typeof pino.destination>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}

/**
 * pino-pretty is loaded only when asked for, so a production install without development
 * dependencies never needs it; asking for it there fails at start-up with the way out.
 */
function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  let prettyFactory: (options: Record<string, unknown>) => pino.DestinationStream;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    prettyFactory = require('pino-pretty') as typeof prettyFactory;
  } catch {
    throw new Error('LOG_PRETTY=true needs the pino-pretty package, a development dependency: run `npm install` with dev dependencies, or unset LOG_PRETTY.');
  }
  return prettyFactory({
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    ...(destination === undefined ? { sync: true } : { destination }),
  });
}
