import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/loadConfig';

export type { Logger } from 'pino';

/** Per string of a line, at any depth: ids, names and documents come from callers. */
export const LOG_STRING_MAX_CHARS = 2048;

/** Log objects are a few levels deep: nothing past this is walked (nor written). */
const MAX_LOG_DEPTH = 8;

/** What an operation's name is cut to in its log line and span: any caller may send a name of any length. */
export const OPERATION_NAME_MAX_CHARS = 128;

export function boundString(text: string, max = LOG_STRING_MAX_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…[${text.length - max} more chars]`;
}

const REDACTED = '[redacted]';
/** Redacted at any depth. */
const SECRET_FIELDS = new Set(['token', 'authorization', 'cookie', 'x-auth-token']);
/** Redacted in any `headers` object. */
const SECRET_HEADERS = new Set(['x-auth-token', 'authorization', 'cookie', 'set-cookie']);

/** Strings bounded, credentials redacted (no token leaks from `log.info({ headers })`); copied on change. */
export function boundLogValue(value: unknown, depth = 0, parentKey?: string): unknown {
  if (typeof value === 'string') return boundString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_LOG_DEPTH) return '[too deep]';
  // Own fields only: what JSON would write of pino's form (not the raw error it keeps).
  if (value instanceof Error) return boundLogValue({ ...pino.stdSerializers.err(value) }, depth, parentKey);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const bounded = boundLogValue(item, depth + 1);
      if (bounded !== item) (copy ??= [...value])[index] = bounded;
    });
    return copy ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const secret = SECRET_FIELDS.has(key) || (parentKey === 'headers' && SECRET_HEADERS.has(key));
    const bounded = secret && item !== undefined ? REDACTED : boundLogValue(item, depth + 1, key);
    if (bounded !== item) (copy ??= { ...value })[key] = bounded;
  }
  return copy ?? value;
}

/** `pretty`: pino-pretty (a development dependency) instead of JSON. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream, pretty = false): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'cse-jobs-gateway' },
      // What log pipelines read without a parser of their own: ISO-8601 and the level's name.
      timestamp: () => timeField(Date.now()),
      // Errors by `formatters.log` (pino's `err` would rename the copy's type); `msg` reaches only this.
      serializers: { err: (value: unknown) => boundLogValue(value), msg: (value: unknown) => boundLogValue(value) },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => boundLogValue(fields) as Record<string, unknown>,
        bindings: (bindings) => boundLogValue(bindings) as Record<string, unknown>,
      },
    },
    pretty ? prettyStream(destination) : destination,
  );
  // pino applies no formatter to a child's bindings (`formatters.bindings` is the root's only).
  type Child = (this: unknown, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as Child;
  logger.child = function (this: unknown, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) {
    return child.call(this, boundLogValue(bindings) as pino.Bindings, childOptions);
  } as unknown as Logger['child'];
  return logger;
}

/** What JSON.stringify would escape in a string: most of a line's strings have none. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(text)`, without its cost for a string it would write as it is (ids, names). */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** The UTF-8 bytes JSON writes of `text` between its quotes (escapes included), with no copy when none. */
export function jsonByteLength(text: string): number {
  return NEEDS_ESCAPE.test(text) ? Buffer.byteLength(JSON.stringify(text)) - 2 : Buffer.byteLength(text);
}

const { lsCacheSym, timeSym, chindingsSym, endSym, streamSym } = pino.symbols;

/** An info line laid out as pino's; its fields come as JSON (`,"a":1`, strings bounded by the caller). */
export function writeInfoLine(logger: Logger, fields: string, message: string): void {
  const own = logger as unknown as { [key: symbol]: unknown };
  const level = (own[lsCacheSym] as Record<number, string>)[logger.levels.values.info!];
  const time = (own[timeSym] as () => string)();
  const bindings = own[chindingsSym] as string;
  const line = `${level}${time}${bindings}${fields},"msg":${jsonString(message)}${own[endSym] as string}`;
  (own[streamSym] as pino.DestinationStream).write(line);
}

let lastSecond = Number.NaN;
let secondPrefix = '';
/** `,"time":"<ISO 8601>"` of `now` (years 1970–9999), `toISOString` called once per second. */
export function timeField(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    // `2026-12-06T03:50:08.`: then the milliseconds.
    secondPrefix = `,"time":"${new Date(now).toISOString().slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  return `${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

export interface ProcessLogger {
  readonly logger: Logger;
  /** Resolves once every line so far has reached stdout (or after `timeoutMs`): before `process.exit`. */
  close(timeoutMs: number): Promise<void>;
}

/** What a batch of lines holds before it is written: each write is a trip through libuv's thread pool. */
const BATCH_BYTES = 128 * 1024;
/** A batch is written at least this often: what a kill (SIGKILL, out of memory) can lose; under load a batch fills first. */
const BATCH_FLUSH_MS = 100;

/**
 * Lines encoded into one Buffer as they come, handed to sonic-boom a batch at a time: a line's string
 * dies young, and no object per line waits through young collections for its batch to be written.
 */
class LineBatches {
  private batch = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  private closed = false;

  // `write` looked up on each batch: pino replaces sonic-boom's on EPIPE.
  constructor(private readonly out: { write(data: Buffer): boolean }) {}

  write(line: string): void {
    if (this.closed) return writeAfterClose(line);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: what fits so is written whole.
    if (line.length * 3 > BATCH_BYTES - this.used) {
      this.handOver();
      if (line.length * 3 > BATCH_BYTES) {
        this.out.write(Buffer.from(line));
        return;
      }
    }
    this.used += this.batch.write(line, this.used);
  }

  handOver(): void {
    if (this.used === 0 || this.closed) return;
    const lines = this.batch.subarray(0, this.used);
    this.batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
    this.out.write(lines);
  }

  /** The last batch goes to the stream, which is ending; later lines are written at once. */
  close(): void {
    this.handOver();
    this.closed = true;
  }
}

/** A line logged while a stop waits for the stream to end (operations still finishing): written on its own
 * turn, perhaps before lines still in the stream's queue, rather than lost; dropped only if stdout refuses. */
function writeAfterClose(line: string): void {
  try {
    writeSync(1, line);
  } catch {
    // stdout full or gone: nothing else can take the line.
  }
}

/** Lines batched to stdout asynchronously: `process.exit` alone could reorder them, `close` waits. */
export function createProcessLogger(level: LogLevel, pretty = false): ProcessLogger {
  // pino-pretty writes synchronously: nothing is left to wait for.
  if (pretty) return { logger: createLogger(level, undefined, true), close: async () => {} };
  // Before pino's own exit hook (which writes out what sonic-boom holds), registered by `destination`.
  const handOverAtExit = () => batches.handOver();
  process.once('beforeExit', handOverAtExit).once('exit', handOverAtExit);
  const stdout = pino.destination({
    dest: 1,
    sync: false,
    // Buffers: with strings, sonic-boom measures its whole pending chunk again on every write.
    contentMode: 'buffer',
    // Each batch is written when it comes (sonic-boom queues it while a write is under way).
    minLength: 0,
    maxWrite: 2 * BATCH_BYTES,
  });
  const batches = new LineBatches(stdout as unknown as { write(data: Buffer): boolean });
  const flushes = setInterval(() => batches.handOver(), BATCH_FLUSH_MS).unref();
  const lines: pino.DestinationStream = { write: (line) => batches.write(line) };
  const close = (timeoutMs: number) => new Promise<void>((resolve) => {
    setTimeout(resolve, timeoutMs).unref();
    clearInterval(flushes);
    batches.close();
    process.off('beforeExit', handOverAtExit).off('exit', handOverAtExit);
    stdout.once('close', resolve);
    stdout.end();
  });
  return { logger: createLogger(level, lines), close };
}

/** Loaded only when asked for: a production install has no pino-pretty. */
function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  let prettyFactory: (options: Record<string, unknown>) => pino.DestinationStream;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    prettyFactory = require('pino-pretty') as typeof prettyFactory;
  } catch {
    throw new Error(
      'LOG_PRETTY=true needs the pino-pretty package, a development dependency: run `npm install` with dev dependencies, or unset LOG_PRETTY.',
    );
  }
  return prettyFactory({
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    ...(destination === undefined ? { sync: true } : { destination }),
  });
}
