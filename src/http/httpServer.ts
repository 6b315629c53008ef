import { HeaderMap, type ApolloServer } from '@apollo/server';
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayContext } from '../graphql/context';
import { passesCsrfPrevention } from './csrf';
import { HEALTH_PATH, READY_PATH, type RouteHandler } from './operationalRoutes';
import { timeoutReason } from '../upstream/boundedSignal';
import type { Flight, InFlightRequests } from '../cache/inFlightRequests';
import type { CachedResponse, WholeResponseCache } from '../cache/wholeResponseCache';
import { requestKey, type CredentialsOf } from '../cache/requestKey';
import type { GatewayConfig } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { OperationFacts } from '../observability/OperationFacts';
import { OperationTelemetry } from '../observability/OperationTelemetry';
import { ExchangeMemory } from '../observability/exchangeMemory';
import { requestRecordOf, setRequestRecord } from '../observability/requestRecord';

export interface HttpServerOptions {
  apollo: ApolloServer<GatewayContext>;
  /** Builds the operation's context from the request (throws a GraphQLError to refuse it). */
  context: (request: IncomingMessage, bound: OperationBound) => Promise<GatewayContext>;
  /** Whose request it is: part of the key of the whole-response cache and of coalescing. */
  credentialsOf: CredentialsOf;
  /** MAX_BODY_BYTES, MAX_BATCH_OPERATIONS and the connections' bounds. */
  http: GatewayConfig['http'];
  /** REQUEST_TIMEOUT_MS: see {@link OperationBound}. */
  operationTimeoutMs: number;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Endpoints by exact path served outside GraphQL (health, metrics …). */
  routes: Readonly<Record<string, RouteHandler>>;
  /** Sets the CORS headers; `true` when it answered a preflight. */
  cors: (request: IncomingMessage, response: ServerResponse) => boolean;
  wholeResponseCache: WholeResponseCache<GatewayContext> | undefined;
  inFlight: InFlightRequests<GatewayContext>;
}

export const GRAPHQL_PATH = '/graphql';

/** Connections kept for the health probes past HTTP_MAX_CONNECTIONS: a full table must not get a live process restarted. */
export const PROBE_CONNECTIONS = 8;

const PROBE_PATHS: ReadonlySet<string> = new Set([HEALTH_PATH, READY_PATH]);

/** Connections accepted past HTTP_MAX_CONNECTIONS, into the probes' reserve. */
const probeOnly = new WeakSet<Socket>();

export const isProbeOnlyConnection = (socket: Socket): boolean => probeOnly.has(socket);

/** One operation's time bound from when it executes: `signal` aborts when the caller leaves or time is up. */
export type OperationBound = { readonly signal: AbortSignal; readonly deadline: number };

type Target = Readonly<Pick<URL, 'pathname' | 'search'>>;

/** What nearly every request asks for, known without parsing a URL. */
const GRAPHQL_TARGET: Target = Object.freeze({ pathname: GRAPHQL_PATH, search: '' });

/**
 * The HTTP front: node:http straight into Apollo's `executeHTTPGraphQLRequest`, no framework. Every
 * request gets an id and a record (requestRecord); a GraphQL request also its facts and telemetry,
 * finished when the exchange ends, whatever ended it (answer, refusal, failure, the caller leaving).
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const limits = options.http.connections;
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for requests past those timeouts (its default is 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const server = createServer(serverOptions, (request, response) => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const target = request.url === GRAPHQL_PATH ? GRAPHQL_TARGET : parseTarget(request.url);
    // Probes, scrapes and CORS preflights are not operations: no log line, no operation metrics.
    if (target?.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') {
      setRequestRecord(request, { requestId });
      handle(options, request, response, target).catch((error: unknown) => fail(options, request, response, error));
      return;
    }
    const { logger, metrics } = options;
    const facts = new OperationFacts();
    const telemetry = new OperationTelemetry({ requestId, headers: request.headers, facts, logger, metrics });
    const memory = new ExchangeMemory();
    setRequestRecord(request, { requestId, facts, telemetry, memory });
    let aborted = false;
    response.once('close', () => {
      if (!response.writableFinished) aborted = true;
    });
    const finish = (httpStatus: number) => {
      telemetry.finish({ httpStatus, aborted });
      memory.release();
    };
    // A failure is answered 500 (see fail).
    handle(options, request, response, target).then(() => finish(response.statusCode), (error: unknown) => {
      finish(500);
      fail(options, request, response, error);
    });
  });
  server.maxConnections = limits.maxConnections + PROBE_CONNECTIONS;
  // Node counts the same connections for its own cap: accepted ones, upgraded ones included, until closed.
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open += 1;
    if (open > limits.maxConnections) probeOnly.add(socket);
    socket.once('close', () => (open -= 1));
  });
  return server;
}

function fail(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, error: unknown): void {
  options.logger.error({ requestId: requestRecordOf(request)?.requestId, err: error }, 'HTTP request failed');
  if (response.headersSent) response.destroy();
  else sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
}

async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, target: Target | undefined): Promise<void> {
  if (target === undefined) {
    // A request target no URL parser accepts (`GET http://[::1 HTTP/1.1`) is the caller's mistake.
    return sendJson(response, 400, requestError('The request target is not a valid URL.'), true);
  }
  if (probeOnly.has(request.socket) && !PROBE_PATHS.has(target.pathname)) {
    response.setHeader('retry-after', '1');
    const message = 'The gateway has as many connections open as it may (HTTP_MAX_CONNECTIONS): retry later.';
    const extensions = { code: 'UPSTREAM_UNAVAILABLE', reason: 'OVERLOADED', retryAfter: 1 };
    return sendJson(response, 503, { errors: [{ message, extensions }] }, true);
  }
  // Only GraphQL requests have bodies to read; any other's connection is closed rather than drained.
  if ((target.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') && hasBody(request)) response.setHeader('connection', 'close');
  const route = options.routes[target.pathname];
  if (route !== undefined) return route(request, response);
  if (target.pathname !== GRAPHQL_PATH) return sendJson(response, 404, { error: 'Not found. The GraphQL endpoint is /graphql.' });
  if (options.cors(request, response)) return;

  const body = await readBody(request, options.http.maxBodyBytes);
  // The rest of an oversized body is not read: the socket closes once the answer is out.
  if (body === undefined) return sendJson(response, 413, requestError(`The request body exceeds ${options.http.maxBodyBytes} bytes.`), true);
  // Only a request Apollo's CSRF prevention lets through may get another's answer (it refuses the
  // rest); after the id and CORS, so a reused answer has the same per-request headers.
  const key = passesCsrfPrevention(request.headers) ? requestKey(options.credentialsOf, request, target.search, body) : undefined;
  const hit = key === undefined ? undefined : options.wholeResponseCache?.lookup(key, request);
  if (hit !== undefined) {
    response.setHeader('age', String(hit.ageSeconds));
    // A stored answer is served only to credentials the upstream accepted recently (see wholeResponseCache).
    return sendReused(request, response, 'cached', hit, true);
  }

  // The operation (or its wait for an identical one) stops for a caller gone away, or its time up.
  const abort = new AbortController();
  // Every upstream call of the operation listens on this one signal: dozens at once are normal.
  setMaxListeners(0, abort.signal);
  response.once('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  let flight: Flight<GatewayContext> | undefined;
  if (key !== undefined) {
    const following = options.inFlight.follow(key, abort.signal);
    if (following === undefined) flight = options.inFlight.lead(key);
    else {
      const shared = await following;
      if (abort.signal.aborted) return;
      if (shared !== undefined) return sendReused(request, response, 'coalesced', shared, shared.credentialsAccepted);
      // The leader's answer cannot be shared: execute as if this request had never waited.
    }
  }
  try {
    let parsedBody: unknown = undefined;
    if (body !== '' && isJson(request.headers['content-type'])) {
      try {
        parsedBody = JSON.parse(body);
      } catch {
        return sendJson(response, 400, requestError('The request body is not valid JSON.'));
      }
    }
    const refused = envelopeRefusal(parsedBody, target.search, options.http.maxBatchOperations);
    if (refused !== undefined) return sendJson(response, 400, requestError(refused));

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // Kept for the response cache, which asks the operation whether its result may be reused.
    let context: GatewayContext | undefined;
    // The operation's time bound aborts the request's own signal: one controller per request.
    const deadline = Date.now() + options.operationTimeoutMs;
    const timer = setTimeout(() => abort.abort(timeoutReason()), options.operationTimeoutMs);
    timer.unref();
    const signal = abort.signal;
    const method = request.method?.toUpperCase() ?? 'GET';
    const result = await options.apollo
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: target.search, body: parsedBody },
        context: async () => (context = await options.context(request, { signal, deadline })),
      })
      .finally(() => clearTimeout(timer));

    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      const answer = { status: response.statusCode, headers: result.headers, body: result.body.string };
      // A leader cut short shares nothing: its waiters execute for themselves.
      flight?.finish(context, signal.aborted ? undefined : answer);
      if (key !== undefined) options.wholeResponseCache?.offer(key, request, context, answer);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  } finally {
    flight?.finish(undefined, undefined); // no-op once the answer was offered
  }
}

/**
 * Why a request's envelope is refused before Apollo sees it: a batch too large, or a persisted-query
 * hash that is not a string (Apollo's `apq:${sha256Hash}` of a deeply nested array overflows the stack).
 */
function envelopeRefusal(body: unknown, search: string, maxBatchOperations: number): string | undefined {
  // A batch (when ALLOW_BATCHING lets Apollo take one) is as many operations as it has entries.
  if (Array.isArray(body) && body.length > maxBatchOperations) return `A batch may hold at most ${maxBatchOperations} operations.`;
  for (const entry of Array.isArray(body) ? body : [body]) {
    // The body's `extensions` (POST), or the `extensions` query parameter (GET).
    let extensions = isObject(entry) ? entry.extensions : undefined;
    try {
      if (!isObject(entry)) extensions = JSON.parse(new URLSearchParams(search).get('extensions') ?? 'null');
    } catch {
      // Apollo answers an unparseable parameter itself, with 400.
    }
    const hash = isObject(extensions) && isObject(extensions.persistedQuery) ? extensions.persistedQuery.sha256Hash : undefined;
    if (hash !== undefined && typeof hash !== 'string') return 'extensions.persistedQuery.sha256Hash must be a string.';
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The request body as text, or `undefined` when it exceeds `maxBytes`. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length']) > maxBytes) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      request.off('data', onData).pause();
      chunks.length = 0;
      resolve(undefined);
    };
    request.on('data', onData).on('error', reject);
    request.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString()));
  });
}

/** The request target (origin-form or absolute-form), or `undefined` when it does not parse as a URL. */
function parseTarget(target: string | undefined): Target | undefined {
  try {
    const { pathname, search } = new URL(target ?? '/', 'http://gateway.invalid');
    return { pathname, search };
  } catch {
    return undefined;
  }
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function requestError(message: string) {
  return { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] };
}

/** A 200 answer Apollo made earlier (cached, or shared by an identical request), with its own headers. */
function sendReused(
  request: IncomingMessage,
  response: ServerResponse,
  how: 'cached' | 'coalesced',
  answer: Omit<CachedResponse, 'ageSeconds'>,
  credentialsAccepted: boolean,
): void {
  requestRecordOf(request)?.facts?.answeredWith(how, answer.operationName, credentialsAccepted);
  for (const [name, value] of answer.headers) response.setHeader(name, value);
  response.statusCode = 200;
  response.end(answer.body);
}

function sendJson(response: ServerResponse, status: number, value: unknown, close = false): void {
  if (close) response.setHeader('connection', 'close');
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const REQUEST_ID_HEADER = 'x-request-id';

/** What proxies and tracers generate (UUIDs, hex, base64, `service:counter`): nothing that breaks a log line. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+\/=@-]{1,128}$/;

/**
 * The id of one HTTP request (`X-Request-Id` both ways): the caller's when safe, else a fresh UUID
 * (replaced, not refused: no request fails for its id). Repeated headers, joined by ", ", are not.
 */
export function requestIdFrom(incoming: string | readonly string[] | undefined, generate: () => string = randomUUID): string {
  const value = typeof incoming === 'string' ? incoming.trim() : undefined;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : generate();
}

/**
 * The soft limit on open files (Linux: `/proc/self/limits`), `undefined` elsewhere or unlimited: a
 * connection cap above it never acts, and accepting fails for all (probes too) once they run out.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const line = read().split('\n').find((row) => row.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
