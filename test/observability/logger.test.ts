import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';

const TOKEN = 'MIIZsecret-token-abcdefghijklmnopqrstuvwxyz';

function capture(pretty = false) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('trace', destination, { pretty }), lines };
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
