import { errors as undiciErrors } from 'undici';
import { GatewayError } from '../../src/errors/GatewayError';
import type { ErrorCode } from '../../src/errors/codes';
import fc from 'fast-check';
import { BREAKER_COUNTS, classifyFailure, credentialVerdictOf, MAX_RETRY_AFTER_S, type Classification, type FailureKind, type Happened, type UpstreamHeaders } from '../../src/upstream/errorMapping';
import { UpstreamBodyError } from '../../src/upstream/parseJson';

const NOW = Date.parse('2024-05-01T12:00:00Z');

const classifyResponse = (status: number, headers: UpstreamHeaders, body: string, now?: number): Classification =>
  classifyFailure({ status, headers, body }, now);

const URL_IN_BODY = 'https://cse.cn-north-4.myhuaweicloud.com/v2/0a1b2c/enginemgr/engines/e1/jobs/7';
const TOKEN_IN_BODY = `MIIZtgYJKoZIhvcNAQcCoIIZpzCCGaMCAQExDTALBglghkgBZQMEAgEwgheIBgkqhkiG9w0BBwGggh${'x'.repeat(300)}+/=`;
const MESSAGE_IN_BODY = `Token ${TOKEN_IN_BODY} rejected for ${URL_IN_BODY}`;

/** The documented error body dialects, each given a code and carrying the secrets above. */
const dialects: Array<[string, (code: string) => string]> = [
  ['CSE error_code/error_msg/detail', (code) => JSON.stringify({ error_code: code, error_msg: MESSAGE_IN_BODY, detail: URL_IN_BODY })],
  ['errorCode/errorMessage/detail', (code) => JSON.stringify({ errorCode: code, errorMessage: MESSAGE_IN_BODY, detail: TOKEN_IN_BODY })],
  ['error_code/error_message', (code) => JSON.stringify({ error_code: code, error_message: MESSAGE_IN_BODY })],
  ['code/message', (code) => JSON.stringify({ code, message: MESSAGE_IN_BODY })],
  ['APIG error_code/error_msg/request_id', (code) => JSON.stringify({ error_code: code, error_msg: MESSAGE_IN_BODY, request_id: 'apig-req-1' })],
  ['wrapped in an array', (code) => JSON.stringify([{ error_code: code, error_msg: MESSAGE_IN_BODY }])],
  ['pretty-printed with whitespace', (code) => `\n  ${JSON.stringify({ error_code: code, error_msg: MESSAGE_IN_BODY }, null, 2)}\n`],
];

/** Bodies from which no code can be read. */
const codelessBodies: Array<[string, string]> = [
  ['empty', ''],
  ['HTML from a proxy', `<html><head><title>502 Bad Gateway</title></head><body>${URL_IN_BODY}</body></html>`],
  ['garbage', `\u0000\u00ff not json ${TOKEN_IN_BODY}`],
  ['truncated JSON', `{"error_code":"SVCSTG.00501116","error_msg":"${URL_IN_BODY}`],
  ['a JSON string', JSON.stringify(MESSAGE_IN_BODY)],
  ['a JSON number', '500'],
  ['JSON null', 'null'],
  ['an empty array', '[]'],
  ['an object without a code', JSON.stringify({ message: MESSAGE_IN_BODY })],
  ['a code that is an object', JSON.stringify({ error_code: { nested: true }, error_msg: 'x' })],
  ['a code that is a token', JSON.stringify({ error_code: TOKEN_IN_BODY })],
  ['a code holding a URL', JSON.stringify({ code: URL_IN_BODY })],
];

type Expected = { kind: 'not-found' } | { kind: 'error'; code: ErrorCode };
const notFound: Expected = { kind: 'not-found' };
const error = (code: ErrorCode): Expected => ({ kind: 'error', code });

/** [status, upstream code, expected] — what each documented (and undocumented) case becomes. */
const codedCases: Array<[number, string, Expected]> = [
  [400, 'SVCSTG.00501116', notFound],
  [400, 'SVCSTG.00501125', notFound],
  [400, 'SVCSTG.00501153', notFound],
  [404, 'SVCSTG.00501153', notFound],
  [401, 'SVCSTG.00501125', notFound],
  [401, 'SVCSTG.00501116', error('UNAUTHENTICATED')],
  [400, 'SVCSTG.00501152', error('BAD_USER_INPUT')],
  [401, 'SVCSTG.00501152', error('UNAUTHENTICATED')],
  [400, 'SVCSTG.00000000', error('UPSTREAM_ERROR')],
  [401, 'APIG.0301', error('UNAUTHENTICATED')],
  [401, 'APIGW.0307', error('UNAUTHENTICATED')],
  [401, 'SVCSTG.00300401', error('UNAUTHENTICATED')],
  [403, 'APIG.0302', error('FORBIDDEN')],
  [403, 'SVCSTG.00501116', error('FORBIDDEN')],
  [404, 'APIG.0101', error('UPSTREAM_ERROR')],
  [429, 'APIG.0308', error('RATE_LIMITED')],
  [500, 'SVCSTG.00300500', error('UPSTREAM_ERROR')],
  [500, 'SVCSTG.00300501', error('UPSTREAM_ERROR')],
  [500, 'SVCSTG.00300605', error('UPSTREAM_ERROR')],
  [500, 'SVCSTG.00501116', error('UPSTREAM_ERROR')],
  [502, 'APIG.0201', error('UPSTREAM_UNAVAILABLE')],
  [503, 'APIG.0201', error('UPSTREAM_UNAVAILABLE')],
  [504, 'APIG.0201', error('UPSTREAM_TIMEOUT')],
  [302, 'X.1', error('UPSTREAM_BAD_RESPONSE')],
];

function withCode(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The one table: what happened (an answer whose body has no usable code, or an error thrown
 * instead of an answer) → the code a client sees, the kind the breakers count, whether to retry.
 */
const whatHappened: Array<[string, Happened, ErrorCode, FailureKind, boolean]> = [
  ['HTTP 100', answered(100), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 204', answered(204), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 301', answered(301), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 302', answered(302), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 304', answered(304), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 400', answered(400), 'UPSTREAM_ERROR', 'refused', false],
  ['HTTP 401', answered(401), 'UNAUTHENTICATED', 'refused', false],
  ['HTTP 403', answered(403), 'FORBIDDEN', 'refused', false],
  ['HTTP 404', answered(404), 'UPSTREAM_ERROR', 'refused', false],
  ['HTTP 405', answered(405), 'UPSTREAM_ERROR', 'refused', false],
  ['HTTP 418', answered(418), 'UPSTREAM_ERROR', 'refused', false],
  ['HTTP 429', answered(429), 'RATE_LIMITED', 'throttled', true],
  ['HTTP 500', answered(500), 'UPSTREAM_ERROR', 'server', true],
  ['HTTP 501', answered(501), 'UPSTREAM_ERROR', 'server', false],
  ['HTTP 502', answered(502), 'UPSTREAM_UNAVAILABLE', 'server', true],
  ['HTTP 503', answered(503), 'UPSTREAM_UNAVAILABLE', 'server', true],
  ['HTTP 504', answered(504), 'UPSTREAM_TIMEOUT', 'server', true],
  ['HTTP 599', answered(599), 'UPSTREAM_ERROR', 'server', false],
  ['HTTP 600', answered(600), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['HTTP 0', answered(0), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['undici ConnectTimeoutError', thrown(new undiciErrors.ConnectTimeoutError()), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['undici HeadersTimeoutError', thrown(new undiciErrors.HeadersTimeoutError()), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['undici BodyTimeoutError', thrown(new undiciErrors.BodyTimeoutError()), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['undici RequestAbortedError (AbortError)', thrown(new undiciErrors.RequestAbortedError()), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['a DOMException TimeoutError', thrown(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['a DOMException AbortError', thrown(new DOMException('This operation was aborted', 'AbortError')), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['an Error named AbortError', thrown(Object.assign(new Error('aborted'), { name: 'AbortError' })), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['a timeout code on the cause', thrown(new TypeError('fetch failed', { cause: withCode('UND_ERR_CONNECT_TIMEOUT') })), 'UPSTREAM_TIMEOUT', 'timeout', false],
  ['ECONNREFUSED', thrown(withCode('ECONNREFUSED')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['ECONNRESET', thrown(withCode('ECONNRESET')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['ENOTFOUND', thrown(withCode('ENOTFOUND')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['EAI_AGAIN', thrown(withCode('EAI_AGAIN')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['EHOSTUNREACH', thrown(withCode('EHOSTUNREACH')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['ENETUNREACH', thrown(withCode('ENETUNREACH')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['EPIPE', thrown(withCode('EPIPE')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['undici SocketError', thrown(new undiciErrors.SocketError('other side closed')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['undici ClientClosedError', thrown(new undiciErrors.ClientClosedError()), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['undici ClientDestroyedError', thrown(new undiciErrors.ClientDestroyedError()), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['a code on the cause (fetch)', thrown(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') })), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['an AggregateError of connect failures', thrown(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['UpstreamBodyError', thrown(new UpstreamBodyError('The upstream body is not valid JSON.')), 'UPSTREAM_BAD_RESPONSE', 'bad-response', false],
  ['an unknown Error', thrown(new Error('something else')), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['a thrown string', thrown('boom'), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['undefined', thrown(undefined), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['null', thrown(null), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['an object with a numeric code', thrown({ code: 42 }), 'UPSTREAM_UNAVAILABLE', 'connection', true],
  ['undici refusing its arguments', thrown(new undiciErrors.InvalidArgumentError('invalid header')), 'INTERNAL_SERVER_ERROR', 'local', false],
  ['ERR_INVALID_URL', thrown(withCode('ERR_INVALID_URL')), 'INTERNAL_SERVER_ERROR', 'local', false],
  ['a GatewayError (an abort reason)', thrown(new GatewayError('UPSTREAM_TIMEOUT', 'x')), 'UPSTREAM_TIMEOUT', 'cancelled', false],
];

function answered(status: number): Happened {
  return { status, headers: {}, body: '' };
}

function thrown(error: unknown): Happened {
  return { thrown: error };
}

/** [status, expected] when the body has no code: the answers of the one table. */
const codelessCases = whatHappened.flatMap(([, happened, code]) => ('thrown' in happened ? [] : [[happened.status, code] as [number, ErrorCode]]));

function expectClassified(result: Classification, expected: Expected, upstream: object): void {
  if (expected.kind === 'not-found') {
    expect(result).toEqual({ kind: 'not-found', upstream });
    return;
  }
  expect(result.kind).not.toBe('not-found');
  if (result.kind === 'not-found') return;
  expect(result.error).toBeInstanceOf(GatewayError);
  expect(result.error.code).toBe(expected.code);
  expect(result.error.extensions.code).toBe(expected.code);
  expect(result.error.extensions.upstream).toEqual(upstream);
}

/** Everything a client could see of a result. */
function visible(result: Classification): string {
  return result.kind === 'not-found'
    ? JSON.stringify(result.upstream)
    : JSON.stringify({ message: result.error.message, extensions: result.error.extensions, json: result.error.toJSON() });
}

describe('classifyResponse', () => {
  describe.each(dialects)('body dialect: %s', (_dialect, body) => {
    it.each(codedCases)('HTTP %i with %s', (status, code, expected) => {
      const text = body(code);
      const result = classifyResponse(status, {}, text, NOW);
      const requestId = text.includes('apig-req-1') ? { requestId: 'apig-req-1' } : {};
      expectClassified(result, expected, { status, code, ...requestId });
    });
  });

  describe.each(codelessBodies)('body without a usable code: %s', (_label, text) => {
    it.each(codelessCases)('HTTP %i → %s', (status, code) => {
      const result = classifyResponse(status, {}, text, NOW);
      expectClassified(result, error(code), { status });
    });
  });

  it.each([...dialects.map(([label, body]) => [label, body('APIG.0301')] as const), ...codelessBodies])(
    'tells a client nothing of the body, URL or token (%s)',
    (_label, text) => {
      for (const status of [...new Set([...codedCases.map(([s]) => s), ...codelessCases.map(([s]) => s)])]) {
        const seen = visible(classifyResponse(status, { 'x-request-id': 'req-1' }, text, NOW));
        if (text.length > 4) expect(seen).not.toContain(text);
        expect(seen).not.toContain(URL_IN_BODY);
        expect(seen).not.toContain('myhuaweicloud');
        expect(seen).not.toContain(TOKEN_IN_BODY.slice(0, 20));
        expect(seen).not.toContain(MESSAGE_IN_BODY.slice(0, 20));
      }
    },
  );

  it('uses fixed wording, e.g. for a refused token', () => {
    const result = classifyResponse(401, {}, JSON.stringify({ error_code: 'APIG.0301', error_msg: 'Incorrect IAM authentication information' }), NOW);
    expect(result.kind !== 'not-found' && result.error.message).toBe("The upstream refused the caller's token.");
  });

  it('keeps only status, code and requestId in extensions.upstream', () => {
    const result = classifyResponse(
      500,
      { 'x-request-id': 'abc123', 'retry-after': '5', 'content-type': 'application/json' },
      JSON.stringify({ error_code: 'SVCSTG.00300500', error_msg: 'boom', detail: 'stack', request_id: 'other', extra: 1 }),
      NOW,
    );
    expect(result.kind !== 'not-found' && result.error.extensions).toEqual({
      code: 'UPSTREAM_ERROR',
      upstream: { status: 500, code: 'SVCSTG.00300500', requestId: 'abc123' },
    });
  });

  it.each<[string, UpstreamHeaders, string, string | undefined]>([
    ['header only', { 'x-request-id': 'hdr-1' }, '', 'hdr-1'],
    ['header wins over body', { 'x-request-id': 'hdr-1' }, '{"request_id":"body-1"}', 'hdr-1'],
    ['body when no header', {}, '{"request_id":"body-1"}', 'body-1'],
    ['body requestId (camelCase)', {}, '{"requestId":"body-2"}', 'body-2'],
    ['header in another case', { 'X-Request-Id': 'hdr-2' }, '', 'hdr-2'],
    ['repeated header: the first', { 'x-request-id': ['hdr-3', 'hdr-4'] }, '', 'hdr-3'],
    ['an implausible header falls back to the body', { 'x-request-id': 'has spaces in it' }, '{"request_id":"body-1"}', 'body-1'],
    ['an overlong value is dropped', { 'x-request-id': 'a'.repeat(65) }, '', undefined],
    ['none', {}, '', undefined],
  ])('request id: %s', (_label, headers, body, requestId) => {
    const result = classifyResponse(500, headers, body, NOW);
    expect(result.kind !== 'not-found' && result.error.extensions.upstream).toEqual(
      requestId === undefined ? { status: 500 } : { status: 500, requestId },
    );
  });

  it('accepts a numeric code', () => {
    const result = classifyResponse(500, {}, '{"code":500,"message":"x"}', NOW);
    expect(result.kind !== 'not-found' && result.error.extensions.upstream).toEqual({ status: 500, code: '500' });
  });

  it('reads error_code before errorCode before code', () => {
    const result = classifyResponse(400, {}, '{"code":"C","errorCode":"B","error_code":"SVCSTG.00501116"}', NOW);
    expect(result.kind).toBe('not-found');
  });

  describe('Retry-After', () => {
    const inSeconds = (s: number): string => new Date(NOW + s * 1000).toUTCString();
    it.each<[string, string | string[] | undefined, number | undefined]>([
      ['delta-seconds', '120', 120],
      ['zero', '0', 0],
      ['padded', ' 30 ', 30],
      ['an IMF-fixdate 90 s ahead', inSeconds(90), 90],
      ['an IMF-fixdate in the past', inSeconds(-60), 0],
      ['an RFC 850 date', 'Wednesday, 01-May-24 12:01:00 GMT', 60],
      ['an asctime date', 'Wed May  1 12:02:00 2024', 120],
      ['repeated: the first', ['10', '20'], 10],
      ['absent', undefined, undefined],
      ['empty', '', undefined],
      ['negative', '-5', undefined],
      ['fractional', '1.5', undefined],
      ['words', 'soon', undefined],
      ['a date Date.parse would guess at', '2024-05-01', undefined],
      ['an impossible date', 'Wed, 99 May 2024 12:00:00 GMT', undefined],
      // Clamped to MAX_RETRY_AFTER_S: nobody is told to wait for years.
      ['the maximum', String(MAX_RETRY_AFTER_S), MAX_RETRY_AFTER_S],
      ['a second past the maximum', String(MAX_RETRY_AFTER_S + 1), MAX_RETRY_AFTER_S],
      ['about 3,170 years', '99999999999', MAX_RETRY_AFTER_S],
      ['too many digits for a safe integer', '9'.repeat(30), MAX_RETRY_AFTER_S],
      ['more digits than a double holds', '9'.repeat(400), MAX_RETRY_AFTER_S],
      ['an IMF-fixdate a day ahead', inSeconds(86_400), MAX_RETRY_AFTER_S],
      ['an IMF-fixdate in the year 9999', 'Fri, 31 Dec 9999 23:59:59 GMT', MAX_RETRY_AFTER_S],
    ])('%s', (_label, value, seconds) => {
      for (const status of [429, 503]) {
        const headers: UpstreamHeaders = value === undefined ? {} : { 'retry-after': value };
        const result = classifyResponse(status, headers, '', NOW);
        expect(result.kind !== 'not-found' && result.error.extensions.retryAfter).toBe(seconds);
      }
    });

    it('is any delta-seconds up to MAX_RETRY_AFTER_S as given, and MAX_RETRY_AFTER_S past it', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^\d{1,40}$/), (digits) => {
          const result = classifyResponse(429, { 'retry-after': digits }, '', NOW);
          const seconds = result.kind !== 'not-found' ? result.error.extensions.retryAfter : undefined;
          expect(seconds).toBe(Math.min(Number(digits), MAX_RETRY_AFTER_S));
        }),
      );
    });

    it('is read from a header name in any case', () => {
      const result = classifyResponse(429, { 'Retry-After': '7' }, '', NOW);
      expect(result.kind !== 'not-found' && result.error.extensions.retryAfter).toBe(7);
    });

    it.each([500, 502, 504, 401])('is not passed on with HTTP %i', (status) => {
      const result = classifyResponse(status, { 'retry-after': '7' }, '', NOW);
      expect(result.kind !== 'not-found' && 'retryAfter' in result.error.extensions).toBe(false);
    });

    it('defaults now to the current time', () => {
      const result = classifyResponse(429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }, '');
      const seconds = result.kind !== 'not-found' ? result.error.extensions.retryAfter : undefined;
      expect(seconds).toBeGreaterThanOrEqual(58);
      expect(seconds).toBeLessThanOrEqual(60);
    });
  });
});

describe('classifyFailure: the one table', () => {
  it.each(whatHappened)('%s', (_label, happened, code, kind, retry) => {
    const result = classifyFailure(happened, NOW);
    expect(result).toMatchObject({ kind, retry });
    if (result.kind === 'not-found') return;
    expect(result.error).toBeInstanceOf(GatewayError);
    expect(result.error.code).toBe(code);
    if (!('thrown' in happened)) return;
    if (happened.thrown instanceof GatewayError) return expect(result.error).toBe(happened.thrown);
    expect(result.error.extensions).toEqual({ code });
    if (happened.thrown instanceof Error) expect(result.error.originalError).toBe(happened.thrown);
  });

  it('passes on the status and request id of a 2xx whose body cannot be read', () => {
    const result = classifyFailure({ thrown: new UpstreamBodyError('x'), status: 200, requestId: 'r-1' });
    expect(result.error.extensions).toEqual({ code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, requestId: 'r-1' } });
  });
});

describe('what the breakers count', () => {
  it.each<[FailureKind, boolean | undefined, boolean | undefined]>([
    ['answer', false, false],
    ['refused', false, false],
    ['throttled', undefined, false],
    ['server', true, false],
    ['bad-response', true, true],
    ['outsized', false, false],
    ['connection', true, true],
    ['timeout', true, true],
    ['cancelled', undefined, undefined],
    ['local', undefined, undefined],
  ])('%s: engine %p, upstream %p', (kind, engine, upstream) => {
    expect(BREAKER_COUNTS[kind]).toEqual({ engine, upstream });
  });
});

describe('what an upstream error says of the credentials', () => {
  it.each<[number, string, ReturnType<typeof credentialVerdictOf>]>([
    [401, 'APIG.0301', 'refused'],
    [403, 'APIG.0302', 'denied'],
    [400, 'SVCSTG.00501152', 'accepted'],
    [404, 'x', 'accepted'],
    [409, '', 'accepted'],
    [429, '', undefined],
    [500, '', undefined],
    [503, '', undefined],
    [302, '', undefined],
  ])('HTTP %i %s: %s', (status, code, verdict) => {
    const result = classifyFailure({ status, headers: {}, body: JSON.stringify({ error_code: code }) }, NOW);
    expect(result.kind !== 'not-found' && credentialVerdictOf(result.error)).toBe(verdict);
  });

  it('has no verdict on a thrown failure, nor on an error the classifier did not make', () => {
    expect(credentialVerdictOf(classifyFailure({ thrown: withCode('ECONNREFUSED') }).error)).toBeUndefined();
    expect(credentialVerdictOf(new GatewayError('UNAUTHENTICATED', 'x', { upstream: { status: 401 } }))).toBeUndefined();
  });
});

describe('classifyFailure of a thrown error', () => {
  it('words a known connection failure and an unknown error differently', () => {
    expect(classifyFailure({ thrown: withCode('ECONNREFUSED') }).error.message).toBe('The upstream could not be reached.');
    expect(classifyFailure({ thrown: new Error('weird') }).error.message).toBe('The call to the upstream failed.');
  });

  it('never repeats the original message, which may hold the URL', () => {
    const err = withCode('ECONNREFUSED', `connect ECONNREFUSED ${URL_IN_BODY}`);
    const result = classifyFailure({ thrown: err }).error;
    expect(JSON.stringify({ message: result.message, extensions: result.extensions })).not.toContain('myhuaweicloud');
  });

  it('returns a GatewayError unchanged', () => {
    const already = new GatewayError('RATE_LIMITED', 'x');
    expect(classifyFailure({ thrown: already }).error).toBe(already);
  });

  it('survives a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyFailure({ thrown: a }).error.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});
