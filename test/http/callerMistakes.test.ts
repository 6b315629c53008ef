import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { LOG_STRING_MAX_CHARS } from '../../src/observability/logger';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { postJson, send } from '../security/http';

/**
 * A caller's mistake is a 4xx with a documented code and at most a warn line, whoever sends it
 * (with a token or without): never a 500 with error lines that quote the caller's text. And no
 * line carries a caller's string whole past LOG_STRING_MAX_CHARS.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'debug', MAX_BODY_BYTES: String(1024 * 1024) });
});
afterAll(() => h.close());

function linesSince(count: number): Array<Record<string, unknown>> {
  return h.logs.slice(count).map((line) => JSON.parse(line) as Record<string, unknown>);
}

function errorLines(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((line) => line.level === 'error' || line.level === 'fatal');
}

const CONDITIONAL_ROOT = 'subscription S($i: Boolean!) { engineJobEvents(engineId: "e1") @include(if: $i) { kind job { id } } }';

describe('a subscription whose root field is under @include(if: $i), over HTTP', () => {
  it.each([
    ['with a token', { 'content-type': 'application/json', 'x-auth-token': 'made-up' }],
    ['without a token', { 'content-type': 'application/json' }],
  ])('%s: GRAPHQL_VALIDATION_FAILED, no upstream call, no error line', async (_who, headers) => {
    const logged = h.logs.length;
    const calls = h.simulator.callCount();
    const response = await send(h.gateway.url, { method: 'POST', headers, body: JSON.stringify({ query: CONDITIONAL_ROOT, variables: { i: false } }) });
    expect(response.status).toBe(200);
    const [error, ...others] = response.json().errors;
    expect(others).toEqual([]);
    expect(error.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(error.message).toMatch(/@skip\/@include/);
    expect(h.simulator.callCount()).toBe(calls);
    const lines = linesSince(logged);
    expect(errorLines(lines)).toEqual([]);
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({ errorCodes: ['GRAPHQL_VALIDATION_FAILED'], httpStatus: 200 });
  });

  it('the same subscription without the directive is still refused as OPERATION_NOT_SUPPORTED', async () => {
    const response = await postJson(h.gateway.url, { query: 'subscription S { engineJobEvents(engineId: "e1") { kind } }' });
    expect(response.status).toBe(200);
    expect(response.json().errors[0].extensions.code).toBe('OPERATION_NOT_SUPPORTED');
  });
});

/** One request written by hand, as no HTTP client would write it; resolves with the raw answer. */
function rawRequest(head: string): Promise<string> {
  const { port } = new URL(h.gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

it.each(['GET http://[::1 HTTP/1.1', 'POST http://[::1/graphql HTTP/1.1'])('the request line `%s` (no URL parses it): 400 BAD_REQUEST, no error line', async (line) => {
  const logged = h.logs.length;
  const answer = await rawRequest(`${line}\r\nHost: gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  expect(body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
  expect(errorLines(linesSince(logged))).toEqual([]);
});

it.each([
  ['POST /graphql', 'Content-Type: application/json\r\nContent-Length: 27\r\n\r\n{"query":"{ __typename }"}'],
  ['GET /graphql?query=%7B__typename%7D', '\r\n'],
  ['GET /healthz', '\r\n'],
])('`%s` asking to upgrade to h2c (as curl --http2 does): 400 BAD_REQUEST in JSON, no error line', async (line, rest) => {
  const logged = h.logs.length;
  const upgrade = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA';
  const answer = await rawRequest(`${line} HTTP/1.1\r\nHost: gateway\r\n${upgrade}\r\n${rest}`);
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(answer).toMatch(/content-type: application\/json/i);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  expect(body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
  expect(body.errors[0].message).toMatch(/without Upgrade/);
  expect(errorLines(linesSince(logged))).toEqual([]);
});

describe('a 200 KB operation name', () => {
  const NAME = `Q${'x'.repeat(200_000)}`;

  it.each([
    ['named in the document', { query: `query ${NAME} { __typename }` }],
    ['as operationName only', { query: 'query Q { __typename }', operationName: NAME }],
    ['in the document and as operationName', { query: `query ${NAME} { __typename }`, operationName: NAME }],
  ])('%s: no log line carries it whole', async (_where, body) => {
    const logged = h.logs.length;
    const response = await postJson(h.gateway.url, body);
    expect(response.status).toBeLessThan(500);
    const lines = h.logs.slice(logged);
    expect(lines.some((line) => JSON.parse(line).msg === 'graphql operation')).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(NAME);
      expect(line.length).toBeLessThan(10 * LOG_STRING_MAX_CHARS);
    }
  });
});

describe('an automatic persisted query sent wrong', () => {
  const query = '{ engines(first: 1) { totalCount } }';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  it.each([
    ['a hash that is not the text', { version: 1, sha256Hash: sha256('something else') }],
    ['a version other than 1', { version: 2, sha256Hash: sha256(query) }],
  ])('%s: BAD_REQUEST to the caller, in the access line and in the metrics, without a token', async (_what, persistedQuery) => {
    const metrics = h.gateway.metricsUrl!;
    const errors = async (code: string) => {
      const text = await (await fetch(metrics)).text();
      return Number(new RegExp(`^gateway_errors_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };
    const [badRequests, internal] = [await errors('BAD_REQUEST'), await errors('INTERNAL_SERVER_ERROR')];
    const logged = h.logs.length;
    const body = JSON.stringify({ query, extensions: { persistedQuery } });
    const response = await send(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(response.json().errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    const lines = linesSince(logged);
    expect(errorLines(lines)).toEqual([]);
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({ errorCodes: ['BAD_REQUEST'], httpStatus: 400 });
    expect(await errors('BAD_REQUEST')).toBe(badRequests + 1);
    expect(await errors('INTERNAL_SERVER_ERROR')).toBe(internal);
  });
});

describe('a caller that leaves, or breaks the framing, while its body is read', () => {
  const port = () => Number(new URL(h.gateway.url).port);
  const request = (length: number | 'chunked') =>
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${length}\r\n\r\n`);

  it.each<[string, string]>([
    ['leaves mid-body', `${request(1000)}{"query":`],
    ['cuts a chunked body short', `${request('chunked')}5\r\n{"que`],
    ['sends a chunk size that is not one', `${request('chunked')}zz\r\n{}\r\n0\r\n\r\n`],
  ])('%s: no error line, and the operation counted as aborted', async (_what, text) => {
    const logged = h.logs.length;
    const socket = connect(port(), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(text);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    // The operation's line is written once the gateway has seen the end.
    const deadline = Date.now() + 3000;
    while (!linesSince(logged).some((line) => line.msg === 'graphql operation') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const lines = linesSince(logged);
    expect(errorLines(lines)).toEqual([]);
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({ outcome: 'aborted', httpStatus: 499 });
  });
});

it('logs 499 for a caller that leaves while its operation runs: nothing was sent', async () => {
  h.simulator.injectFault({ route: 'getEngine', latencyMs: 400 });
  const logged = h.logs.length;
  const body = JSON.stringify({ query: `{ engine(id: "${SEED.engines.big}") { id } }` });
  const socket = connect(Number(new URL(h.gateway.url).port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  const line = () => linesSince(logged).find((entry) => entry.msg === 'graphql operation');
  const deadline = Date.now() + 3000;
  while (line() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  // The cancelled upstream call reads as a timeout inside; nobody got that error, and no metric counts it.
  expect(line()).toMatchObject({ outcome: 'aborted', httpStatus: 499, errorCodes: [] });
  h.simulator.reset();
});

it('answers a compressed body 415 BAD_REQUEST without reading it: the body is read as sent', async () => {
  const logged = h.logs.length;
  const response = await send(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(response.status).toBe(415);
  expect(response.json().errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
  expect(errorLines(linesSince(logged))).toEqual([]);
  // Its code in the access line (and so in gateway_errors_total), as a 400's: refused as a whole.
  const line = () => linesSince(logged).find((entry) => entry.msg === 'graphql operation');
  const deadline = Date.now() + 2000;
  while (line() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(line()).toMatchObject({ errorCodes: ['BAD_REQUEST'], httpStatus: 415 });
});
