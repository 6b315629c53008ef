import { HeaderMap, type ApolloServer } from '@apollo/server';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayContext } from '../graphql/context';
import { passesCsrfPrevention } from './csrf';
import { HEALTH_PATH, READY_PATH, type RouteHandler } from './operationalRoutes';
import { REQUEST_ID_HEADER, requestIdFrom } from './requestId';
import { timeoutReason } from '../upstream/boundedSignal';
import type { Flight, InFlightRequests } from '../cache/inFlightRequests';
import type { CachedResponse, WholeResponseCache } from '../cache/wholeResponseCache';
import { requestKey, type CredentialsOf } from '../cache/requestKey';
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
  /** The caller's credentials: the key of the whole-response cache and of coalescing. */
  credentialsOf: CredentialsOf;
  /** Bounds every GraphQL operation (REQUEST_TIMEOUT_MS): see {@link OperationBound}. */
  operationTimeoutMs: number;
  /** Request bodies above this many bytes are refused with 413 before they are parsed. */
  maxBodyBytes: number;
  /** Operations one batched request may hold (when batching is allowed at all). */
  maxBatchOperations: number;
  connections: ConnectionLimits;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Other endpoints by exact path (health, metrics …), served outside GraphQL. */
  routes: Readonly<Record<string, RouteHandler>>;
  /** CORS for the GraphQL endpoint: sets its headers, and says `true` when it answered a preflight. */
  cors: (request: IncomingMessage, response: ServerResponse) => boolean;
  /** Whole answers reused for the same caller and request, served without entering Apollo. */
  wholeResponseCache: WholeResponseCache<GatewayContext> | undefined;
  /** Identical requests of the same caller in flight at once share one execution. */
  inFlight: InFlightRequests<GatewayContext>;
}

export const GRAPHQL_PATH = '/graphql';

/** What one client connection may hold of the process (Node's defaults let idle sockets take it all). */
export interface ConnectionLimits {
  /** A request's headers must have arrived within this time of its first byte (or of the connection opening). */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this time (the answer may take longer). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  readonly keepAliveTimeoutMs: number;
  /** Connections open at once; past it, {@link PROBE_CONNECTIONS} more serve the health probes alone. */
  readonly maxConnections: number;
}

/** Connections kept for the health probes past HTTP_MAX_CONNECTIONS: a full table must not get a live process restarted. */
export const PROBE_CONNECTIONS = 8;

const PROBE_PATHS: ReadonlySet<string> = new Set([HEALTH_PATH, READY_PATH]);

/** Connections accepted into the probes' reserve. */
const probeOnly = new WeakSet<Socket>();

export function isProbeOnlyConnection(socket: Socket): boolean {
  return probeOnly.has(socket);
}

/** How often Node looks for requests past their headers or request timeout (its default is 30 s). */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** One operation's time bound from when it executes: `signal` aborts when the caller leaves or time is up. */
export interface OperationBound {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/** The parts of the request target the server reads. */
interface Target {
  readonly pathname: string;
  readonly search: string;
}

/** What nearly every request asks for, known without parsing a URL. */
const GRAPHQL_TARGET: Target = { pathname: GRAPHQL_PATH, search: '' };

/**
 * The HTTP front: node:http straight into Apollo's `executeHTTPGraphQLRequest`, no framework.
 * Every request gets an id (the caller's, when safe) in `X-Request-Id` and a record (see
 * requestRecord); a GraphQL request also its OperationFacts and OperationTelemetry, finished when
 * the exchange ends, whatever ended it (answer, refusal, failure, or the caller going away).
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const limits = options.connections;
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECKING_INTERVAL_MS, limits.headersTimeoutMs),
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
    const facts = new OperationFacts();
    const { logger, metrics } = options;
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
    handle(options, request, response, target).then(
      () => finish(response.statusCode),
      (error: unknown) => {
        finish(500); // answered 500 just below
        fail(options, request, response, error);
      },
    );
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
    response.setHeader('connection', 'close');
    sendJson(response, 400, requestError('The request target is not a valid URL.'));
    return;
  }
  if (probeOnly.has(request.socket) && !PROBE_PATHS.has(target.pathname)) {
    response.setHeader('connection', 'close');
    response.setHeader('retry-after', '1');
    const message = 'The gateway has as many connections open as it may (HTTP_MAX_CONNECTIONS): retry later.';
    sendJson(response, 503, { errors: [{ message, extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'OVERLOADED', retryAfter: 1 } }] });
    return;
  }
  // Only GraphQL requests have bodies to read; any other's connection is closed rather than drained.
  if ((target.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') && hasBody(request)) response.setHeader('connection', 'close');
  const route = options.routes[target.pathname];
  if (route !== undefined) return route(request, response);
  if (target.pathname !== GRAPHQL_PATH) {
    sendJson(response, 404, { error: 'Not found. The GraphQL endpoint is /graphql.' });
    return;
  }
  if (options.cors(request, response)) return;

  const body = await readBody(request, options.maxBodyBytes);
  if (body === undefined) {
    // The rest of the body is not read: the socket closes once the answer is out.
    response.setHeader('connection', 'close');
    sendJson(response, 413, requestError(`The request body exceeds ${options.maxBodyBytes} bytes.`));
    return;
  }
  // Only a request Apollo would execute may be answered with another's answer: one its CSRF
  // prevention refuses goes on to Apollo, and is refused there. After the request id and CORS, so
  // a reused answer carries the same per-request headers; before the body is parsed, which a hit
  // never needs.
  const key = passesCsrfPrevention(request.headers) ? requestKey(options.credentialsOf, request, target.search, body) : undefined;
  const hit = key === undefined ? undefined : options.wholeResponseCache?.lookup(key, request);
  if (hit !== undefined) {
    response.setHeader('age', String(hit.ageSeconds));
    // A stored answer is served only to credentials the upstream accepted recently (see wholeResponseCache).
    sendReused(request, response, 'cached', hit, true);
    return;
  }

  // The operation (or its wait for an identical one) stops for a caller who has gone away; once it
  // executes, also when its time is up (see execute).
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
    await execute(options, request, response, target, body, abort, key, flight);
  } finally {
    flight?.finish(undefined, undefined); // no-op once the answer was offered
  }
}

async function execute(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  target: Target,
  bodyText: string,
  abort: AbortController,
  key: string | undefined,
  flight: Flight<GatewayContext> | undefined,
): Promise<void> {
  let parsedBody: unknown = undefined;
  if (bodyText !== '' && isJson(request.headers['content-type'])) {
    try {
      parsedBody = JSON.parse(bodyText);
    } catch {
      sendJson(response, 400, requestError('The request body is not valid JSON.'));
      return;
    }
  }
  const refused = envelopeRefusal(parsedBody, new URLSearchParams(target.search), options.maxBatchOperations);
  if (refused !== undefined) {
    sendJson(response, 400, requestError(refused));
    return;
  }

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
}

/**
 * Why a request's envelope is refused before Apollo sees it, or `undefined`: a batch larger than
 * allowed, or an automatic-persisted-query hash that is not a string. Apollo builds its cache key
 * with `apq:${sha256Hash}`, and an array nested a few thousand levels deep overflows the stack
 * there: an HTTP 500 and an error-level log line, where a plain 400 is due.
 */
function envelopeRefusal(body: unknown, search: URLSearchParams, maxBatchOperations: number): string | undefined {
  // A batch (when ALLOW_BATCHING lets Apollo take one) is as many operations as it has entries.
  if (Array.isArray(body) && body.length > maxBatchOperations) return `A batch may hold at most ${maxBatchOperations} operations.`;
  for (const entry of Array.isArray(body) ? body : [body]) {
    const hash = (extensionsOf(entry, search) as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
    if (hash !== undefined && typeof hash !== 'string') return 'extensions.persistedQuery.sha256Hash must be a string.';
  }
  return undefined;
}

/** The `extensions` of a request: the body's (POST), or the `extensions` query parameter (GET). */
function extensionsOf(body: unknown, search: URLSearchParams): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return (body as { extensions?: unknown }).extensions;
  const raw = search.get('extensions');
  try {
    return raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined; // Apollo answers an unparseable parameter itself, with 400
  }
}

/** The request body as text, or `undefined` when it exceeds `maxBytes`. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.pause();
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
    request.on('error', reject);
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

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
