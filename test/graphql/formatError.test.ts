import { GraphQLError } from 'graphql';
import { createFormatError } from '../../src/graphql/formatError';
import { createLogger } from '../../src/observability/logger';
import { Writable } from 'node:stream';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('error', stream) };
}

describe('formatError', () => {
  it.each(['BAD_USER_INPUT', 'UPSTREAM_ERROR', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED', 'RATE_LIMITED'])(
    'passes an expected %s through unchanged',
    (code) => {
      const { logger, lines } = capture();
      const formatted = { message: 'm', extensions: { code, upstream: { status: 500 } } };
      expect(createFormatError(logger)(formatted, new GraphQLError('m'))).toBe(formatted);
      expect(lines).toEqual([]);
    },
  );

  it.each([undefined, 'INTERNAL_SERVER_ERROR', 'SOMETHING_ELSE'])(
    'masks code %s as INTERNAL_SERVER_ERROR with a correlation id that is also logged',
    (code) => {
      const { logger, lines } = capture();
      const secret = 'connect ECONNREFUSED 10.1.2.3:443 with token abc';
      const result = createFormatError(logger)(
        { message: secret, path: ['engine'], extensions: { code, stacktrace: ['at x'] } },
        new Error(secret),
      );
      expect(result.message).toBe('Internal server error');
      expect(result.path).toEqual(['engine']);
      expect(result.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', correlationId: expect.any(String) });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(String(result.extensions!.correlationId));
    },
  );
});
