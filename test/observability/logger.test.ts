import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { runInRequestScope } from '../../src/observability/requestScope';

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

  it('tags every line written inside a request scope with its request id, and no other line', async () => {
    const { logger, lines } = capture();
    logger.info('before');
    await runInRequestScope({ requestId: 'req-1' }, async () => {
      logger.info('inside');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.warn({ kind: 'later' }, 'after an await');
    });
    logger.info('after');
    expect(lines.map((line) => JSON.parse(line).requestId)).toEqual([undefined, 'req-1', 'req-1', undefined]);
  });

  it('writes a request id given explicitly once, even inside a scope', () => {
    const { logger, lines } = capture();
    runInRequestScope({ requestId: 'req-1' }, () => logger.info({ requestId: 'req-1' }, 'line'));
    expect(lines[0]!.match(/"requestId"/g)).toHaveLength(1);
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
