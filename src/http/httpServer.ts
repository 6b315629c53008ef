import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayContext } from '../graphql/context';
import { passesCsrfPrevention } from './csrf';
import { HEALTH_PATH, READY_PATH } from './operationalRoutes';
import { extensionsOf, requestEnvelopeProblem } from './requestEnvelope';
import { timeoutReason } from '../upstream/boundedSignal';
import type { Flight, InFlightRequests } from '../cache/inFlightRequests';
import type { WholeResponseCache } from '../cache/wholeResponseCache';

export interface HttpServerOptions {
  apollo: ApolloServer<GatewayContext>;
  /** Builds the operation's context from the request (throws a GraphQLError to refuse it). */
  context: (request: IncomingMessage, bound: OperationBound) => Promise<GatewayContext>;
  /** Bounds every GraphQL operation (REQUEST_TIMEOUT_MS): see {@link OperationBound}. */
  operationTimeoutMs: number;
  /** Request bodies above this many bytes are refused with 413 before they are parsed. */
  maxBodyBytes: number;
  /** Operations one batched request may hold (when batching is allowed at all). */
  maxBatchOperations: number;
  /** Socket-level bounds: every connection has a deadline, and their number is capped. */
  connections: ConnectionLimits;
  /** Called with failures of the HTTP layer itself (never with a caller's headers). */
  onError: (error: unknown, request: IncomingMessage) => void;
  /** Told when a request is answered with another's answer, and whether its credentials were accepted. */
  onReused?: (request: IncomingMessage, how: 'cached' | 'coalesced', operationName: string | null, credentialsAccepted: boolean) => void;
  /** Other endpoints by exact path (health, metrics …), served outside GraphQL. */
  routes?: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse) => void | Promise<void>>>;
  /** Wraps the handling of every request, routes included: calls `next` once, settles when it settles. */
  aroundRequest?: (request: IncomingMessage, response: ServerResponse, next: () => Promise<void>) => Promise<void>;
  /** CORS for the GraphQL endpoint: sets its headers, and resolves `true` when it answered a preflight. */
  cors?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  /** Whole answers reused for the same caller and request, served without entering Apollo. */
  wholeResponseCache?: WholeResponseCache<GatewayContext>;
  /** Identical requests of the same caller in flight at once share one execution. */
  inFlight?: InFlightRequests<GatewayContext>;
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

/**
 * Connections kept for /healthz and /readyz once HTTP_MAX_CONNECTIONS are open: a full table must
 * not make the orchestrator restart a live process.
 */
export const PROBE_CONNECTIONS = 8;

/** The paths a connection in the probes' reserve is served. */
const PROBE_PATHS: ReadonlySet<string> = new Set([HEALTH_PATH, READY_PATH]);

/** Connections accepted into the probes' reserve (see PROBE_CONNECTIONS). */
const probeOnly = new WeakSet<Socket>();

/** Whether this connection was accepted past HTTP_MAX_CONNECTIONS, for the health probes alone. */
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

/** The HTTP front: node:http straight into Apollo's `executeHTTPGraphQLRequest`, no framework. */
export function createHttpServer(options: HttpServerOptions): Server {
  const limits = options.connections;
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECKING_INTERVAL_MS, limits.headersTimeoutMs),
  };
  const server = createServer(serverOptions, (request, response) => {
    const next = () => handle(options, request, response);
    (options.aroundRequest === undefined ? next() : options.aroundRequest(request, response, next)).catch((error: unknown) => {
      options.onError(error, request);
      if (!response.headersSent) sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else response.destroy();
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

async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = requestUrl(request.url);
  if (url === undefined) {
    // A request target no URL parser accepts (`GET http://[::1 HTTP/1.1`) is the caller's mistake.
    response.setHeader('connection', 'close');
    sendJson(response, 400, requestError('The request target is not a valid URL.'));
    return;
  }
  if (probeOnly.has(request.socket) && !PROBE_PATHS.has(url.pathname)) {
    response.setHeader('connection', 'close');
    response.setHeader('retry-after', '1');
    sendJson(response, 503, {
      errors: [{ message: 'The gateway has as many connections open as it may (HTTP_MAX_CONNECTIONS): retry later.', extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'OVERLOADED', retryAfter: 1 } }],
    });
    return;
  }
  // Only GraphQL requests have bodies to read; any other's connection is closed rather than drained.
  if ((url.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') && hasBody(request)) response.setHeader('connection', 'close');
  const route = options.routes?.[url.pathname];
  if (route !== undefined) {
    await route(request, response);
    return;
  }
  if (url.pathname !== GRAPHQL_PATH) {
    sendJson(response, 404, { error: 'Not found. The GraphQL endpoint is /graphql.' });
    return;
  }
  if (options.cors !== undefined && (await options.cors(request, response))) return;

  const body = await readBody(request, options.maxBodyBytes);
  if (body.kind === 'too-large') {
    // The rest of the body is not read: the socket closes once the answer is out.
    response.setHeader('connection', 'close');
    sendJson(response, 413, requestError(`The request body exceeds ${options.maxBodyBytes} bytes.`));
    return;
  }
  // Only a request Apollo would execute may be answered with another's answer: one its CSRF
  // prevention refuses goes on to Apollo, and is refused there.
  const reusable = passesCsrfPrevention(request.headers);
  // After CORS and the request id (aroundRequest), so a hit carries the same per-request headers;
  // before the body is parsed, which a hit never needs.
  const cacheKey = reusable ? options.wholeResponseCache?.keyOf(request, url.search, body.text) : undefined;
  if (cacheKey !== undefined) {
    const hit = options.wholeResponseCache!.lookup(cacheKey, request);
    if (hit !== undefined) {
      response.setHeader('age', String(hit.ageSeconds));
      // A stored answer is served only to credentials the upstream accepted recently (see wholeResponseCache).
      options.onReused?.(request, 'cached', hit.operationName, true);
      sendStored(response, hit.headers, hit.body);
      return;
    }
  }

  // The operation (or its wait for an identical one) stops for a caller who has gone away; once it
  // executes, also when its time is up (see execute).
  const abort = new AbortController();
  // Every upstream call of the operation listens on this one signal: dozens at once are normal.
  setMaxListeners(0, abort.signal);
  response.once('close', () => {
    if (!response.writableFinished) abort.abort();
  });

  // Same place as the cache lookup, for the same reasons; the key is the same function's.
  const flightKey = options.inFlight === undefined || !reusable ? undefined : (cacheKey ?? options.inFlight.keyOf(request, url.search, body.text));
  let flight: Flight<GatewayContext> | undefined;
  if (flightKey !== undefined) {
    const following = options.inFlight!.follow(flightKey, abort.signal);
    if (following === undefined) flight = options.inFlight!.lead(flightKey);
    else {
      const shared = await following;
      if (abort.signal.aborted) return;
      if (shared !== undefined) {
        options.onReused?.(request, 'coalesced', shared.operationName, shared.credentialsAccepted);
        sendStored(response, shared.headers, shared.body);
        return;
      }
      // The leader's answer cannot be shared: execute as if this request had never waited.
    }
  }
  try {
    await execute(options, request, response, url, body.text, abort, cacheKey, flight);
  } finally {
    flight?.finish(undefined, undefined); // no-op once the answer was offered
  }
}

async function execute(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  bodyText: string,
  abort: AbortController,
  cacheKey: string | undefined,
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
  const refused = envelopeRefusal(parsedBody, url.searchParams, options.maxBatchOperations);
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
  let result: HTTPGraphQLResponse;
  try {
    result = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method?.toUpperCase() ?? 'GET', headers, search: url.search, body: parsedBody },
      context: async () => (context = await options.context(request, { signal, deadline })),
    });
  } finally {
    clearTimeout(timer);
  }

  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    response.end(result.body.string);
    const answer = { status: response.statusCode, headers: result.headers, body: result.body.string };
    // A leader cut short shares nothing: its waiters execute for themselves.
    flight?.finish(context, signal.aborted ? undefined : answer);
    if (cacheKey !== undefined) options.wholeResponseCache!.offer(cacheKey, request, context, answer);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

/** Why a request's envelope is refused before Apollo sees it (see requestEnvelope), or `undefined`. */
function envelopeRefusal(body: unknown, search: URLSearchParams, maxBatchOperations: number): string | undefined {
  if (Array.isArray(body)) {
    // A batch (when ALLOW_BATCHING lets Apollo take one) is as many operations as it has entries.
    if (body.length > maxBatchOperations) return `A batch may hold at most ${maxBatchOperations} operations.`;
    for (const entry of body) {
      const problem = requestEnvelopeProblem(extensionsOf(entry, search));
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return requestEnvelopeProblem(extensionsOf(body, search));
}

type Body = { kind: 'ok'; text: string } | { kind: 'too-large' };

function readBody(request: IncomingMessage, maxBytes: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      resolve({ kind: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.pause();
        chunks.length = 0;
        resolve({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve({ kind: 'ok', text: Buffer.concat(chunks).toString('utf8') }));
    request.on('error', reject);
  });
}

/** The request target as a URL (origin-form or absolute-form), or `undefined` when it does not parse. */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://gateway.invalid');
  } catch {
    return undefined;
  }
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function requestError(message: string) {
  return { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] };
}

/** A 200 answer Apollo made earlier (cached, or shared by an identical request), with its own headers. */
function sendStored(response: ServerResponse, headers: Iterable<readonly [string, string]>, body: string): void {
  for (const [name, value] of headers) response.setHeader(name, value);
  response.statusCode = 200;
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
