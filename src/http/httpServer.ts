import { HeaderMap, type ApolloServer } from '@apollo/server';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { GatewayContext } from '../graphql/context';
import { varyOn } from './cors';
import { passesCsrfPrevention } from './csrf';
import { answerMediaType, JSON_MEDIA_TYPE } from '../graphql/mediaType';
import { IDENTITY_HEADERS } from './identity';
import { HEALTH_PATH, METRICS_PATH, metricsRoute, READY_PATH, type RouteHandler } from './operationalRoutes';
import { timeoutReason } from '../upstream/errorMapping';
import { deadlineIn } from '../upstream/stages/types';
import { addressKey } from './addressKey';
import { callerLeft, encodeAnswer } from './answerText';
import { IdleConnections } from './idleConnections';
import { PlainAbort, type AbortSignalLike } from '../cache/abort';
import { CallerShares } from '../cache/callerShares';
import type { Flight, InFlightRequests } from '../cache/inFlightRequests';
import type { CachedResponse, WholeResponseCache } from '../cache/wholeResponseCache';
import type { CallerCredentials } from '../cache/scopeKey';
import { readCredentials, requestKey, type CredentialsOf } from '../cache/requestKey';
import type { GatewayConfig } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { OperationTelemetry } from '../observability/OperationTelemetry';
import { releaseExchange, type HeldRequestContext } from '../observability/exchangeMemory';
import { requestRecordOf, setRequestRecord } from '../observability/requestRecord';
import type { UnsentAnswers } from './unsentAnswers';

export interface HttpServerOptions {
  apollo: ApolloServer<GatewayContext>;
  context: (request: IncomingMessage, bound: OperationBound) => Promise<GatewayContext>;
  credentialsOf: CredentialsOf;
  http: GatewayConfig['http'];
  operationTimeoutMs: number;
  logger: Logger;
  metrics: GatewayMetrics;
  /** By exact path. */
  routes: Readonly<Record<string, RouteHandler>>;
  /** Adds its headers to `own`; `true` when it answered a preflight. */
  cors: (request: IncomingMessage, response: ServerResponse, own: string[]) => boolean;
  wholeResponseCache: WholeResponseCache<GatewayContext> | undefined;
  inFlight: InFlightRequests<GatewayContext>;
  unsent: UnsentAnswers;
}

export const GRAPHQL_PATH = '/graphql';

/** Kept for the health probes past HTTP_MAX_CONNECTIONS: a full table must not get a live process restarted. */
export const PROBE_CONNECTIONS = 8;

/** METRICS_PORT's: a scraper or two, kept from the descriptors PORT needs. */
export const METRICS_CONNECTIONS = 16;

const PROBE_PATHS: ReadonlySet<string> = new Set([HEALTH_PATH, READY_PATH]);

/** Accepted past HTTP_MAX_CONNECTIONS, into the probes' reserve. */
const probeOnly = new WeakSet<Socket>();

export const isProbeOnlyConnection = (socket: Socket): boolean => probeOnly.has(socket);

/** `signal` aborts when the caller leaves or the operation's time is up. */
export type OperationBound = { readonly signal: AbortSignalLike; readonly deadline: number };

type Target = Readonly<Pick<URL, 'pathname' | 'search'>>;

const ANSWER_VARY = ['Accept', ...IDENTITY_HEADERS].join(', ');

const GRAPHQL_TARGET: Target = Object.freeze({ pathname: GRAPHQL_PATH, search: '' });

/**
 * node:http straight into Apollo's `executeHTTPGraphQLRequest`. A GraphQL request's telemetry is
 * finished when the exchange ends, whatever ended it (answer, refusal, failure, the caller leaving).
 */
export function createHttpServer(options: HttpServerOptions) {
  let operations = 0;
  const server = createCappedServer(options.http.connections, PROBE_CONNECTIONS, (request, response) => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    const own = [REQUEST_ID_HEADER, requestId];
    const target = request.url === GRAPHQL_PATH ? GRAPHQL_TARGET : parseTarget(request.url);
    // Probes, scrapes and CORS preflights are not operations: no log line, no operation metrics.
    if (target?.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') {
      setRequestRecord(request, { requestId });
      handle(options, request, response, target, own).catch((error: unknown) => fail(options, request, response, error, own));
      return;
    }
    // An answer depends on the caller (and a browser's private cache keeps it): see its headers.
    varyOn(own, ANSWER_VARY);
    const telemetry = new OperationTelemetry(requestId, request.headers, options.logger, options.metrics);
    const held: HeldRequestContext[] = [];
    setRequestRecord(request, { requestId, telemetry, held });
    let aborted = false;
    // The connection closed before the answer began: whatever is written after, nothing was sent.
    let unsent = false;
    onClientLeft(request, response, () => {
      aborted = true;
      unsent = !response.headersSent;
    });
    operations += 1;
    const finish = (httpStatus: number) => {
      operations -= 1;
      telemetry.finish({ httpStatus: unsent ? LEFT_STATUS : httpStatus, aborted, unsent });
      releaseExchange(held);
    };
    handle(options, request, response, target, own).then(() => finish(response.statusCode), (error: unknown) => {
      finish(500);
      fail(options, request, response, error, own);
    });
  });
  /** GraphQL requests begun whose line is not yet logged: what an exit now would cut. */
  return Object.assign(server, { operationsInFlight: () => operations });
}

/**
 * The connection settings' timeouts, `maxConnections` connections, then `reserve` more for the probes
 * (or scrapers). A full table closes an idle connection for a newcomer (IdleConnections says which);
 * with none, the newcomer goes to the reserve. A full reserve closes its oldest (Node's cap drops the
 * newest): one asking at once is answered at once, so connections that send nothing cannot keep it out.
 */
function createCappedServer(limits: GatewayConfig['http']['connections'], reserve: number, listener: RequestListener) {
  // Node's timeouts end with the request: an answer its client does not read would be held for good.
  // From the answer's end (`prefinish`), so a slow upstream is not cut; what the kernel took is not held.
  function armSendDeadline(this: Answer) {
    if (this.socket?.writableLength === 0) return;
    this[SEND_DEADLINE] = setTimeout(() => this.destroy(), limits.requestTimeoutMs).unref();
  }
  // Node starts every pipelined request it has read while no answer waits to be sent: their answers
  // would wait unsent, none with a deadline yet. One answer in the making per connection.
  const answering = new WeakSet<Socket>();
  const idle = new IdleConnections();
  function answered(this: Answer) {
    const { socket } = this.req;
    answering.delete(socket);
    clearTimeout(this[SEND_DEADLINE]);
    if (tabled.has(socket) && !socket.destroyed) idle.answered(socket);
  }
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node's default of 30 s would let a request outlive those timeouts by that much.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (request, response) => {
      if (answering.has(request.socket)) return overloaded(response, PIPELINED);
      answering.add(request.socket);
      idle.busy(request.socket);
      response.on('prefinish', armSendDeadline).on('close', answered);
      listener(request, response);
    },
  );
  // An upgraded connection is the WebSocket server's: never idle, in the table until closed. Only where
  // there is a table: with an 'upgrade' listener, Node hands every Upgrade to the listeners, where none
  // would serve it as a request (the metrics port's h2c scrapes). With no WebSocket server listening
  // (stopped for shutdown), nothing would answer it: it is closed.
  if (limits.maxConnections > 0) {
    server.prependListener('upgrade', (request: IncomingMessage) => {
      idle.busy(request.socket);
      if (server.listenerCount('upgrade') === 1) request.socket.destroy();
    });
  }
  // Upgraded connections included, until closed (or closed for a newcomer: counted out at once).
  const tabled = new Map<Socket, () => void>();
  const byAddress = new CallerShares(limits.maxConnectionsPerAddress);
  const reserved = new Set<Socket>(); // oldest first
  server.on('connection', (socket: Socket) => {
    // One client cannot take the table: past its address's share, it gets what the probes get.
    const address = addressKey(socket.remoteAddress ?? '');
    if (tabled.size >= limits.maxConnections && !byAddress.full(address)) {
      const closed = idle.take();
      if (closed !== undefined) {
        tabled.get(closed)!();
        closed.destroy();
      }
    }
    if (tabled.size < limits.maxConnections && !byAddress.full(address)) {
      byAddress.add(address, 1);
      const leave = () => {
        if (!tabled.delete(socket)) return;
        idle.busy(socket);
        byAddress.add(address, -1);
      };
      tabled.set(socket, leave);
      idle.opened(socket);
      socket.once('close', leave);
      return;
    }
    if (reserved.size === reserve) {
      const oldest = reserved.values().next().value as Socket;
      reserved.delete(oldest);
      oldest.destroy();
    }
    probeOnly.add(socket);
    reserved.add(socket);
    socket.once('close', () => reserved.delete(socket));
  });
  return server;
}

const SEND_DEADLINE = Symbol('sendDeadline');
type Answer = ServerResponse & { [SEND_DEADLINE]?: NodeJS.Timeout };

/** METRICS_PORT: the scrape port can stay inside the cluster while PORT faces the clients. */
export async function startMetricsServer(registry: Registry, port: number, http: GatewayConfig['http']) {
  const route = metricsRoute(registry);
  // All of them the evictable reserve: a scraper asks at once, so kept-alive connections cannot lock it out.
  const limits = { ...http.connections, maxConnections: 0 };
  const server = createCappedServer(limits, METRICS_CONNECTIONS, (request, response) => {
    if ((request.url ?? '').split('?')[0] !== METRICS_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void response.end('Only /metrics is served here.\n');
    }
    Promise.resolve(route(request, response)).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await once(server.listen(port, http.host), 'listening');
  return {
    url: listeningUrl(http.host, (server.address() as AddressInfo).port, METRICS_PATH),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Where a listener on `host` is reached from this machine: `localhost` for every address. */
export function listeningUrl(host: string | undefined, port: number, path: string): string {
  const name = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}${path}`;
}

function fail(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, error: unknown, own: string[]) {
  options.logger.error({ requestId: requestRecordOf(request)?.requestId, err: error }, 'HTTP request failed');
  if (response.headersSent) return void response.destroy();
  setHeaders(response, own);
  sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
}

// `own`: the request's id and CORS headers, set before any answer but a stored one, which writes
// them in its block: a setHeader before writeHead sends Node down its slow path.
async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, target: Target | undefined, own: string[]) {
  const operation = target?.pathname === GRAPHQL_PATH && request.method !== 'OPTIONS' && !probeOnly.has(request.socket);
  if (!operation) setHeaders(response, own);
  if (target === undefined) {
    // `GET http://[::1 HTTP/1.1`: the caller's mistake.
    return sendJson(response, 400, requestError('The request target is not a valid URL.'), true);
  }
  const probesOnly = probeOnly.has(request.socket) && !PROBE_PATHS.has(target.pathname);
  if (probesOnly) return overloaded(response, AT_LIMIT);
  // Only GraphQL requests have bodies to read; any other's connection is closed rather than drained.
  if ((target.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') && hasBody(request)) response.setHeader('connection', 'close');
  const route = options.routes[target.pathname];
  if (route !== undefined) return route(request, response);
  if (target.pathname !== GRAPHQL_PATH) return sendJson(response, 404, { error: 'Not found. The GraphQL endpoint is /graphql.' });
  if (options.cors(request, response, own)) return;

  // The body is read as sent: a compressed one would be taken for its bytes.
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    setHeaders(response, own);
    return sendJson(response, 415, requestError('Content-Encoding is not supported: send the body uncompressed.'), true);
  }
  const body = await readBody(request, options.http.maxBodyBytes);
  if (body === LEFT) {
    response.statusCode = LEFT_STATUS;
    return void response.destroy();
  }
  // Only a request Apollo's CSRF prevention lets through may get another's answer (after CORS and the id).
  const csrfSafe = body !== undefined && passesCsrfPrevention(request.headers);
  const credentials = csrfSafe ? readCredentials(options.credentialsOf, request) : undefined;
  const reuse = credentials && { key: requestKey(credentials, request, target.search, body!), credentials };
  const hit = reuse && options.wholeResponseCache?.lookup(reuse.key, reuse.credentials);
  if (hit !== undefined) {
    return sendReused(options, request, response, 'cached', hit, reuse!.credentials, true, own);
  }
  setHeaders(response, own);
  // The rest of an oversized body is not read: the socket closes once the answer is out.
  if (body === undefined) return sendJson(response, 413, requestError(`The request body exceeds ${options.http.maxBodyBytes} bytes.`), true);
  // A function of its own: what misses meet never changes the code a hit runs.
  return answerMiss(options, request, response, target.search, body, reuse);
}

/**
 * Calls `left` once if the client leaves before its answer is finished: its connection closes, or it ends
 * its side, which Node (no half-open HTTP) answers by ending ours: nothing written after reaches it. The end
 * is known from the pass of the loop that read it, before the operation's turn comes; the close is not.
 */
function onClientLeft(request: IncomingMessage, response: ServerResponse, left: () => void): void {
  const { socket } = request;
  let known = false;
  const leave = () => {
    if (known) return;
    known = true;
    socket.off('end', leave);
    if (!response.writableFinished) left();
  };
  if (socket.readableEnded) return leave();
  socket.once('end', leave);
  response.once('close', leave);
}

/** Coalesced with an identical request in flight, or run by Apollo, then offered to the cache. */
async function answerMiss(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  search: string,
  body: string,
  reuse: { readonly key: string; readonly credentials: CallerCredentials } | undefined,
): Promise<void> {
  // Every upstream call of the operation listens on this one signal: dozens at once are normal.
  const abort = new PlainAbort();
  onClientLeft(request, response, () => abort.leave());
  // The operation's time counts from here: a wait behind an identical request in flight is part of it.
  const deadline = deadlineIn(options.operationTimeoutMs);
  const timer = setTimeout(() => abort.abort(timeoutReason()), options.operationTimeoutMs).unref();
  let flight: Flight<GatewayContext> | undefined;
  try {
    if (reuse !== undefined) {
      const following = options.inFlight.follow(reuse.key, abort.signal);
      if (following === undefined) flight = options.inFlight.lead(reuse.key);
      else {
        const shared = await following;
        // Past its time, it runs as any other whose time is up: its fields answer UPSTREAM_TIMEOUT at once.
        if (callerLeft(abort.signal)) return;
        if (shared !== undefined) return sendReused(options, request, response, 'coalesced', shared, reuse.credentials, shared.credentialsAccepted);
      }
    }
    let parsedBody: unknown = undefined;
    if (body !== '' && isJson(request.headers['content-type'])) {
      try {
        parsedBody = JSON.parse(body);
      } catch {
        return sendJson(response, 400, requestError('The request body is not valid JSON.'));
      }
    }
    const refused = envelopeRefusal(parsedBody, search, options.http);
    if (refused !== undefined) return sendJson(response, 400, requestError(refused));

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let context: GatewayContext | undefined;
    const result = await options.apollo
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: request.method?.toUpperCase() ?? 'GET', headers, search, body: parsedBody },
        context: async () => (context = await options.context(request, { signal: abort.signal, deadline })),
      })
      .finally(() => clearTimeout(timer));

    if (result.body.kind === 'complete') {
      const text = encodeAnswer(result.body.string, context?.budget ?? { caller: undefined, signal: abort.signal });
      const answer = { status: result.status ?? 200, headers: result.headers, body: text instanceof Buffer ? text : await text };
      if (unsentBy(options, reuse?.credentials, response, answer.body)) {
        response.writeHead(answer.status, { ...Object.fromEntries(answer.headers), 'content-length': answer.body.length }).end(answer.body);
      }
      // A leader cut short shares nothing: its waiters execute for themselves. A large answer whose caller
      // left was not written whole (answerText.ts): nothing keeps it.
      flight?.finish(context, abort.signal.aborted ? undefined : answer);
      if (reuse !== undefined && !callerLeft(abort.signal)) options.wholeResponseCache?.offer(reuse.key, reuse.credentials, context, answer);
      return;
    }
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  } finally {
    clearTimeout(timer);
    flight?.finish(undefined, undefined); // no-op once the answer was offered
  }
}

/** A batch too large, or a persisted-query hash not a string (`apq:${hash}` of a deep array overflows the stack). */
function envelopeRefusal(body: unknown, search: string, http: HttpServerOptions['http']): string | undefined {
  const { allowBatching, maxBatchOperations } = http;
  if (Array.isArray(body) && !allowBatching) return 'Operation batching is off on this gateway (ALLOW_BATCHING): send one operation per request.';
  if (Array.isArray(body) && body.length > maxBatchOperations) return `A batch may hold at most ${maxBatchOperations} operations.`;
  for (const entry of Array.isArray(body) ? body : [body]) {
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

/** The caller left (or broke the framing) before its body was whole: nothing to answer, nothing to log. */
const LEFT = Symbol('left');
/** What the access line says of it, and of any request whose connection closed before its answer began:
 * nginx's "client closed request" (Node answers a broken framing 400 and a body past
 * HTTP_REQUEST_TIMEOUT_MS 408 itself, then closes). */
const LEFT_STATUS = 499;

/** `undefined` past `maxBytes`. Into one buffer: each chunk kept would hold a Buffer of its own, many
 * times a byte's size for a body sent a byte at a time. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined | typeof LEFT> {
  return new Promise((resolve) => {
    const declared = Number(request.headers['content-length']);
    if (declared > maxBytes) return resolve(undefined);
    let first: Buffer | undefined;
    let body: Buffer | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) {
        request.off('data', onData).pause();
        first = body = undefined;
        return resolve(undefined);
      }
      // The whole body in one chunk, as most come, is not copied.
      if (size === 0) first = chunk;
      else {
        if (body === undefined || size + chunk.length > body.length) {
          const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(2 * size, size + chunk.length, 16 * 1024)));
          (body ?? first!).copy(grown, 0, 0, size);
          body = grown;
          first = undefined;
        }
        chunk.copy(body, size);
      }
      size += chunk.length;
    };
    request.on('data', onData).on('error', () => resolve(LEFT));
    request.once('end', () => resolve((body ?? first)?.toString('utf8', 0, size) ?? ''));
  });
}

/** Origin-form or absolute-form; `undefined` when it does not parse as a URL. */
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

/** A request refused before GraphQL sees it, in the answers' shape. */
export function requestError(message: string) {
  return { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] };
}

/** Not counted: smaller answers hold at most this much per connection, bounded by the connection cap. */
const UNCOUNTED_ANSWER_BYTES = 64 * 1024;

/** Whether `body` may be sent: else, its caller's earlier answers still unsent, 503 OVERLOADED. */
function unsentBy(
  options: HttpServerOptions,
  credentials: CallerCredentials | undefined,
  response: ServerResponse,
  body: Buffer,
  own: string[] = [],
): boolean {
  if (body.length <= UNCOUNTED_ANSWER_BYTES || options.unsent.hold(credentials, response, body.length)) return true;
  setHeaders(response, own);
  overloaded(response, UNREAD);
  return false;
}

/** A 200 answer Apollo made earlier (cached, or shared by an identical request). */
function sendReused(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  how: 'cached' | 'coalesced',
  answer: Omit<CachedResponse, 'ageSeconds'> & { readonly ageSeconds?: number },
  credentials: CallerCredentials,
  credentialsAccepted: boolean,
  head: string[] = [],
): void {
  requestRecordOf(request)?.telemetry?.facts.answeredWith(how, answer.operationName, credentialsAccepted);
  if (!unsentBy(options, credentials, response, answer.body, head)) return;
  if (answer.ageSeconds !== undefined) head.push('age', String(answer.ageSeconds));
  for (const [name, value] of answer.headers) head.push(name, value);
  head.push('content-length', String(answer.body.length));
  response.writeHead(200, head).end(answer.body);
}

function setHeaders(response: ServerResponse, flat: readonly string[]): void {
  for (let i = 0; i < flat.length; i += 2) response.setHeader(flat[i]!, flat[i + 1]!);
}

const PIPELINED = 'One request at a time per connection (no HTTP pipelining): retry on a new connection.';
const UNREAD = 'Earlier answers to these credentials are still unsent: read them, then retry.';
const AT_LIMIT = 'The gateway has as many connections open as it may (HTTP_MAX_CONNECTIONS): retry later.';

/** 503 OVERLOADED, retry after a second; the connection is closed once it is sent. */
function overloaded(response: ServerResponse, message: string): void {
  response.setHeader('retry-after', '1');
  const extensions = { code: 'UPSTREAM_UNAVAILABLE', reason: 'OVERLOADED', retryAfter: 1 };
  sendJson(response, 503, { errors: [{ message, extensions }] }, true);
}

/** A GraphQL error answer (`errors`) in the media type its `Accept` prefers, as Apollo's own. */
function sendJson(response: ServerResponse, status: number, value: object, close = false): void {
  if (close) response.setHeader('connection', 'close');
  const text = JSON.stringify(value);
  const type = 'errors' in value ? answerMediaType(response.req.headers.accept) : JSON_MEDIA_TYPE;
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const REQUEST_ID_HEADER = 'x-request-id';

/** What proxies and tracers generate (UUIDs, hex, base64, `service:counter`): nothing that breaks a log line. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+\/=@-]{1,128}$/;

/** `X-Request-Id` both ways: the caller's when safe, else a fresh UUID (no request fails for its id). */
export function requestIdFrom(incoming: string | readonly string[] | undefined, generate: () => string = randomUUID): string {
  const value = typeof incoming === 'string' ? incoming.trim() : undefined;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : generate();
}

/**
 * The listeners' caps only protect the process below the open-file limit (64 kept for files and
 * logs): above it they would never act, and accepting would fail for everyone, probes included.
 */
export function warnOfOpenFileLimit(config: GatewayConfig, logger: Logger, limit = openFileLimit()): void {
  const { http, upstream } = config;
  const metricsConnections = http.metricsPort === undefined ? 0 : METRICS_CONNECTIONS;
  const clientConnections = http.connections.maxConnections + PROBE_CONNECTIONS + metricsConnections;
  if (limit === undefined || clientConnections + upstream.poolConnections + 64 <= limit) return;
  const fields = { openFileLimit: limit, clientConnections, cseConnections: upstream.poolConnections };
  const what = "HTTP_MAX_CONNECTIONS (with the probes' and METRICS_PORT's connections) + CSE_CONNECTIONS";
  const fix = 'lower HTTP_MAX_CONNECTIONS or raise the limit';
  logger.warn(fields, `${what} is close to or above the open-file limit (ulimit -n): ${fix}`);
}

/** The soft limit on open files (Linux), `undefined` elsewhere or unlimited. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((row) => row.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
