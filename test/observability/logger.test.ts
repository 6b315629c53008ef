import { Writable } from 'node:stream';
import fc from 'fast-check';
import {
  boundLogValue,
  boundString,
  createLogger,
  jsonByteLength,
  jsonString,
  LOG_STRING_MAX_CHARS,
  timeField,
} from '../../src/observability/logger';

const TOKEN = 'MIIZsecret-token-abcdefghijklmnopqrstuvwxyz';
/** What a cut string ends with. */
const cutMark = (omitted: number) => `…[${omitted} more chars]`;

function capture(pretty = false) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('trace', destination, pretty), lines };
}

describe('createLogger', () => {
  it('writes the level by name and the time as ISO 8601, as log pipelines read them', () => {
    const { logger, lines } = capture();
    logger.warn('careful');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'warn', service: 'cse-jobs-gateway', msg: 'careful' });
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it.each([
    ['a token field', { token: TOKEN }],
    ['a nested token', { credentials: { token: TOKEN } }],
    ['a deeper token', { context: { credentials: { token: TOKEN } } }],
    ['request headers', { headers: { 'x-auth-token': TOKEN, authorization: `Bearer ${TOKEN}`, cookie: `session=${TOKEN}` } }],
    ['nested request headers', { req: { headers: { 'x-auth-token': TOKEN, authorization: `Bearer ${TOKEN}`, cookie: `s=${TOKEN}` } } }],
    ['headers under any key', { upstream: { headers: { 'x-auth-token': TOKEN, 'set-cookie': `s=${TOKEN}` } } }],
    ['a bare authorization field', { authorization: `Bearer ${TOKEN}` }],
    ['a bare cookie field', { cookie: `s=${TOKEN}` }],
    ['an x-auth-token field', { 'x-auth-token': TOKEN }],
  ])('redacts %s', (_what, fields) => {
    const { logger, lines } = capture();
    logger.info(fields, 'something happened');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(TOKEN);
    expect(lines[0]).toContain('[redacted]');
  });

  it("redacts a child logger's bindings, and credentials at any depth", () => {
    const { logger, lines } = capture();
    const deep = { a: { b: { c: { token: TOKEN, request: { headers: { authorization: `Bearer ${TOKEN}` } } } } } };
    logger.child({ token: TOKEN, headers: { cookie: `s=${TOKEN}` } }).info(deep, 'child line');
    expect(lines[0]).not.toContain(TOKEN);
    expect(JSON.parse(lines[0]!).a.b.c).toEqual({ token: '[redacted]', request: { headers: { authorization: '[redacted]' } } });
  });

  it('adds no request id of its own: a line names a request only when its caller says which', () => {
    const { logger, lines } = capture();
    logger.info('process line');
    logger.info({ requestId: 'req-1' }, 'request line');
    expect(lines.map((line) => JSON.parse(line).requestId)).toEqual([undefined, 'req-1']);
    expect(lines[1]!.match(/"requestId"/g)).toHaveLength(1);
  });

  it('writes human-readable lines when asked, still redacted', () => {
    const { logger, lines } = capture(true);
    logger.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'pretty line');
    const text = lines.join('');
    expect(text).toContain('pretty line');
    expect(text).toContain('INFO');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).not.toContain(TOKEN);
  });
});

describe('every string a line carries is bounded (LOG_STRING_MAX_CHARS)', () => {
  const LONG = 'x'.repeat(200_000);
  const MAX_WRITTEN = LOG_STRING_MAX_CHARS + cutMark(200_000).length;

  /** Every string in a parsed line, keys included, with where it was. */
  function strings(value: unknown, path = ''): Array<[string, string]> {
    if (typeof value === 'string') return [[path, value]];
    if (typeof value !== 'object' || value === null) return [];
    return Object.entries(value).flatMap(([key, item]) => [[`${path}.${key}#key`, key] as [string, string], ...strings(item, `${path}.${key}`)]);
  }

  it.each<[string, (logger: ReturnType<typeof capture>['logger']) => void]>([
    ['a field', (logger) => logger.warn({ subscriptionId: LONG }, 'refused')],
    ['a nested field', (logger) => logger.warn({ operation: { name: LONG } }, 'refused')],
    ['an array item', (logger) => logger.warn({ ids: ['a', LONG] }, 'refused')],
    ['the message', (logger) => logger.warn(`refused ${LONG}`)],
    ['a printf argument', (logger) => logger.warn({ a: 1 }, 'refused %s', LONG)],
    ['an error field (message, stack, own fields)', (logger) => logger.error({ err: Object.assign(new Error(LONG), { input: LONG }) }, 'failed')],
    ['an error alone (its message becomes the line message)', (logger) => logger.error(new Error(LONG))],
    ['an error under another key', (logger) => logger.error({ cause: new TypeError(LONG) }, 'failed')],
    ["a child logger's bindings", (logger) => logger.child({ subscriptionId: LONG }).warn('refused')],
  ])('%s', (_what, write) => {
    const { logger, lines } = capture();
    write(logger);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    const found = strings(line);
    for (const [path, text] of found) expect([path, text.length <= MAX_WRITTEN]).toEqual([path, true]);
    // The cut is marked, with what was left out.
    expect(lines[0]).toContain('…[');
    expect(lines[0]!.length).toBeLessThan(8 * MAX_WRITTEN);
  });

  it('an error keeps its type and stack once bounded', () => {
    const { logger, lines } = capture();
    logger.error({ err: new TypeError('short') }, 'failed');
    const line = JSON.parse(lines[0]!);
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'short' });
    expect(line.err.stack).toMatch(/^TypeError: short\n\s+at /);
    expect(line.msg).toBe('failed');
  });

  it('strings at or under the bound are written whole, longer ones cut at it with the count left out (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: LOG_STRING_MAX_CHARS + 50 }), fc.nat({ max: 5000 }), (text, extra) => {
        const long = text + 'y'.repeat(extra);
        const bounded = boundString(long);
        if (long.length <= LOG_STRING_MAX_CHARS) return bounded === long;
        return bounded === long.slice(0, LOG_STRING_MAX_CHARS) + cutMark(long.length - LOG_STRING_MAX_CHARS);
      }),
    );
  });

  it('a value with nothing to cut is the same object (no copy), one with something is a copy', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const short = JSON.stringify(value).length <= LOG_STRING_MAX_CHARS;
        const bounded = boundLogValue(value);
        if (short) return bounded === value;
        return strings(bounded).every(([, text]) => text.length <= LOG_STRING_MAX_CHARS + cutMark(Number.MAX_SAFE_INTEGER).length);
      }),
    );
    const value = { a: { b: ['c', 'x'.repeat(LOG_STRING_MAX_CHARS + 1)] } };
    const bounded = boundLogValue(value) as typeof value;
    expect(bounded).not.toBe(value);
    expect(value.a.b[1]).toHaveLength(LOG_STRING_MAX_CHARS + 1); // the caller's object is left as it was
    expect(bounded.a.b[1]).toBe('x'.repeat(LOG_STRING_MAX_CHARS) + cutMark(1));
  });
});

describe("a line's strings and time, written without JSON.stringify and toISOString where they can be", () => {
  it('jsonString writes what JSON.stringify writes: quotes, backslashes, controls, lone surrogates (property)', () => {
    // fc.string(): printable ASCII, quotes and backslashes often; binary: controls and lone surrogates.
    const strings = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.uuid());
    fc.assert(fc.property(strings, (text) => expect(jsonString(text)).toBe(JSON.stringify(text))));
  });

  it('jsonByteLength is the UTF-8 length of what JSON.stringify writes, without the quotes (property)', () => {
    const strings = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
    fc.assert(fc.property(strings, (text) => expect(jsonByteLength(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2)));
  });

  it('timeField writes the ISO 8601 time of any millisecond, called in any order (property)', () => {
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const instants = fc.integer({ min: 0, max: last });
    const nearby = fc.tuple(instants, fc.array(fc.integer({ min: -2500, max: 2500 }), { maxLength: 20 }));
    fc.assert(
      fc.property(nearby, ([start, steps]) => {
        for (const now of [start, ...steps.map((step) => Math.min(last, Math.max(0, start + step)))]) {
          expect(timeField(now)).toBe(`,"time":"${new Date(now).toISOString()}"`);
        }
      }),
    );
  });
});
