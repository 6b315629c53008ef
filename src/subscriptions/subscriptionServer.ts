import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode, RequestErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';
import { createFormatError } from '../graphql/formatError';
import type { CorsPolicy } from '../http/cors';
import { GRAPHQL_PATH, isProbeOnlyConnection } from '../http/httpServer';
import { credentialsFromHeaders } from '../http/identity';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics, SocketRefusal, SubscriptionField } from '../observability/metrics';
import type { Admission, AdmittedOperation, OperationRequest } from '../security/admission';
import type { Credentials } from '../upstream/credentials';
import { ConflatingStream } from './conflatingStream';
import { connectionHeaders, originAllowed } from './connectionIdentity';
import { polledAtOf } from './eventKeys';
import { SubscriptionGroups, type GroupRequest } from './SubscriptionGroups';
import { maxPendingEvents, Watches, type WatchFleet } from './Watches';

export interface SubscriptionWiring {
  readonly httpServer: HttpServer;
  readonly schema: GraphQLSchema;
  readonly admission: Admission;
  /** Origins a browser may open a socket from: the ones CORS allows. */
  readonly cors: CorsPolicy;
  readonly services: ContextServices;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** With REDIS_URL: the fleet's one poller per scope and engine. */
  readonly fleet: WatchFleet | undefined;
}

/** What is open now: sockets, subscriptions, bytes pending for slow readers, sends waiting for a socket. */
export interface SubscriptionServer {
  readonly sockets: number;
  readonly active: number;
  readonly pendingBytes: number;
  readonly sendsWaiting: number;
}

/** How long a socket closed by the gateway may take to finish its closing handshake. */
const CLOSE_HANDSHAKE_MS = 1000;

interface Connection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  readonly address: string;
  credentials?: Credentials;
  /**
   * From onSubscribe until graphql-ws's onComplete, ended ones included: graphql-ws keeps one
   * entry per id, so an id still ending may not be reused (one `complete` would reach neither).
   */
  readonly operations: Map<string, Operation>;
  /** Operations not ended: the per-socket limit counts them. */
  open: number;
  idle: NodeJS.Timeout | undefined;
  /** Bytes its subscriptions hold pending (counted against SUBSCRIPTION_MAX_BUFFERED_BYTES). */
  pendingBytes: number;
}

/** One admitted subscribe: counted from admission until its stream closes, whatever closes it. */
interface Operation {
  readonly id: string;
  readonly field: SubscriptionField;
  readonly name: string | undefined;
  readonly group: GroupRequest;
  /** Where the group pushes results; graphql-ws holds it for the id from onSubscribe on. */
  readonly stream: ConflatingStream<FormattedExecutionResult>;
  readonly startedAt: number;
  events: number;
  ended: boolean;
  leaveGroup?: () => void;
  /** Resolves the send waiting for the socket (one at a time: graphql-ws awaits each). */
  release?: () => void;
}

type Ctx = Context<Record<string, unknown>, Connection>;

/**
 * Subscriptions over WebSocket on the HTTP server's port and path: the watches (pollers), the
 * groups of identical subscriptions, and graphql-ws's protocol server over `ws`. Our own adapter
 * rather than graphql-ws's `useServer`, for the Origin check and socket caps before the upgrade,
 * close codes for refused identities, and sends that wait for the socket (a slow reader's
 * results conflate instead of queueing) within a bound per socket. Every document meets the
 * admission HTTP operations meet. The drain plugin closes every socket (1001), then stops the pollers.
 */
export function serveSubscriptions(
  config: GatewayConfig,
  { httpServer, schema, admission, cors, services, logger, metrics: gatewayMetrics, fleet }: SubscriptionWiring,
): { readonly server: SubscriptionServer; readonly drainPlugin: ApolloServerPlugin<GatewayContext> } {
  const limits = config.subscriptions;
  const metrics = gatewayMetrics.subscriptions;
  const watches = new Watches(config, services.http, metrics, fleet);
  // Only the socket's contexts have watches: over HTTP the Subscription resolvers have none.
  const socketServices: ContextServices = { ...services, watches };
  const formatError = socketFormatError(createFormatError(logger));
  const groups = new SubscriptionGroups({
    schema,
    // Each event's execution gets a context of its own (fresh loaders), bounded like an HTTP operation.
    contextFor: (credentials) =>
      createContext(socketServices, {
        credentials,
        deadline: Date.now() + config.limits.operationTimeoutMs,
        refusal: {},
      }),
    formatError,
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.http.maxBodyBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
    // Compression costs CPU per message per socket and opens memory attacks (zip bombs).
    perMessageDeflate: false,
  });
  const socketsByAddress = new Map<string, number>();
  const stats = { sockets: 0, active: 0, pendingBytes: 0, sendsWaiting: 0 };
  let nextConnectionId = 1;
  let closing = false;

  const protocol = makeServer<Record<string, unknown>, Connection>({
    schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect: identify,
    onSubscribe: admit,
    // The group's results are formatted already; graphql-ws's types want execution results.
    subscribe: (args) => join(args.contextValue as Operation) as never,
    onNext: (ctx, id, _payload, _args, result) => {
      const operation = ctx.extra.operations.get(id);
      if (operation !== undefined) {
        operation.events += 1;
        const polled = polledAtOf(result);
        metrics.eventSent(operation.field, polled === undefined ? undefined : performance.now() - polled);
      }
      return result as FormattedExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    onComplete: (ctx, id) => {
      void ctx.extra.operations.get(id)?.stream.return();
      ctx.extra.operations.delete(id);
    },
    // graphql-ws returns the streams it still holds; these are the ones it may have lost track of.
    onClose: (ctx) => {
      for (const operation of ctx.extra.operations.values()) void operation.stream.return();
    },
  });

  function identify(ctx: Ctx): boolean {
    const connection = ctx.extra;
    const headers = connectionHeaders(ctx.connectionParams, connection.request.headers);
    try {
      connection.credentials = credentialsFromHeaders(headers, config.upstream.projectId);
      return true;
    } catch (error) {
      const unauthenticated = error instanceof GatewayError && error.code === ErrorCode.UNAUTHENTICATED;
      metrics.socketRefused(unauthenticated ? 'unauthenticated' : 'bad_request');
      const message = error instanceof GraphQLError ? error.message : 'The connection could not be identified.';
      // Our code first: graphql-ws then closes with 4403, which a closing socket ignores.
      closeSocket(connection.socket, unauthenticated ? CloseCode.Unauthorized : CloseCode.BadRequest, message);
      return false;
    }
  }

  function admit(ctx: Ctx, id: string, payload: OperationRequest): ExecutionArgs | readonly GraphQLError[] {
    const connection = ctx.extra;
    const credentials = connection.credentials;
    if (credentials === undefined) return [refusal('Not identified.', ErrorCode.UNAUTHENTICATED)];
    // The limits first: a socket past them must not make the gateway parse every document it sends.
    if (connection.open >= limits.maxPerConnection) {
      metrics.subscribeRefused('connection_limit');
      const message =
        `This connection has ${limits.maxPerConnection} subscriptions open, ` +
        'the most it may (SUBSCRIPTION_MAX_PER_CONNECTION).';
      return [tooMany(message, 'connection', limits.maxPerConnection)];
    }
    if (stats.active >= limits.maxTotal) {
      metrics.subscribeRefused('total_limit');
      const message =
        'The gateway serves as many subscriptions as it may (SUBSCRIPTION_MAX_TOTAL): retry later.';
      return [tooMany(message, 'gateway', limits.maxTotal)];
    }
    if (connection.operations.has(id)) {
      metrics.subscribeRefused('invalid');
      const message = 'A subscription with this id is still ending: subscribe with another id.';
      return [refusal(message, RequestErrorCode.BAD_REQUEST)];
    }
    const admitted = admission.admit(payload, 'websocket');
    if (Array.isArray(admitted)) {
      metrics.subscribeRefused('invalid');
      return admitted;
    }
    const { document, hash, operationName, name, variables, field } = admitted as AdmittedOperation;
    const stream = new ConflatingStream<FormattedExecutionResult>(
      maxPendingEvents(config),
      () => metrics.conflated(),
      () => ended(connection, operation),
      (delta) => {
        connection.pendingBytes += delta;
        stats.pendingBytes += delta;
        if (delta > 0) bound(connection);
      },
    );
    const group: GroupRequest = { hash, document, operationName, variables, credentials };
    const startedAt = performance.now();
    const operation: Operation = { id, field, name, group, stream, startedAt, events: 0, ended: false };
    connection.operations.set(id, operation);
    connection.open += 1;
    clearTimeout(connection.idle);
    stats.active += 1;
    metrics.subscriptionStarted(field);
    const fields = { connection: connection.id, subscription: id, field, operationName: name };
    logger.info(fields, 'subscription started');
    // graphql-ws keeps null for the id until `subscribe` resolves: a `complete` meanwhile ends this stream.
    ctx.subscriptions[id] = stream;
    return { schema, document, operationName, variableValues: variables, contextValue: operation };
  }

  /** graphql-ws's `subscribe`: never throws (a throw would close the socket with 4500). */
  async function join(operation: Operation): Promise<AsyncGenerator | ExecutionResult> {
    let joined: Awaited<ReturnType<SubscriptionGroups['join']>>;
    try {
      joined = await groups.join(operation.group, operation.stream);
    } catch (error) {
      // A code from the closed set passes; anything else the formatter masks and logs.
      const graphqlError = error instanceof GraphQLError ? error : new GraphQLError('Internal server error');
      return { errors: [formatError(graphqlError.toJSON(), error)] } as unknown as ExecutionResult;
    }
    if (typeof joined !== 'function') return joined as unknown as ExecutionResult;
    if (operation.ended) joined();
    else operation.leaveGroup = joined;
    return operation.stream;
  }

  function ended(connection: Connection, operation: Operation): void {
    operation.ended = true;
    operation.release?.();
    operation.leaveGroup?.();
    connection.open -= 1;
    stats.active -= 1;
    metrics.subscriptionEnded(operation.field);
    const durationMs = Math.round(performance.now() - operation.startedAt);
    const { id: subscription, field, name: operationName, events } = operation;
    const fields = { connection: connection.id, subscription, field, operationName, events, durationMs };
    logger.info(fields, 'subscription ended');
    if (connection.open === 0) startIdle(connection);
  }

  /** A socket without an operation for SUBSCRIPTION_IDLE_TIMEOUT_MS holds a socket slot for nothing. */
  function startIdle(connection: Connection): void {
    clearTimeout(connection.idle);
    connection.idle = setTimeout(() => {
      if (connection.open > 0) return;
      metrics.socketRefused('idle');
      closeSocket(connection.socket, 1000, 'Idle: no subscription (SUBSCRIPTION_IDLE_TIMEOUT_MS)');
    }, limits.idleTimeoutMs);
    connection.idle.unref();
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error before the handshake completes must not reach the process.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string, metric: SocketRefusal) => {
      metrics.socketRefused(metric);
      const body = `${reason}\n`;
      const type = 'Content-Type: text/plain; charset=utf-8';
      const headers = ['Connection: close', type, `Content-Length: ${body.length}`];
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers.join('\r\n')}\r\n\r\n${body}`);
    };
    if (request.url?.split('?')[0] !== GRAPHQL_PATH) return refuse(404, 'Not Found', 'path');
    if (closing) return refuse(503, 'Service Unavailable', 'shutting_down');
    const { origin, host } = request.headers;
    if (!originAllowed(cors, origin, host)) return refuse(403, 'Forbidden', 'origin');
    // Before the handshake, so a socket past a cap never holds a slot; nor one of the probes' reserve.
    if (stats.sockets >= limits.maxSockets || isProbeOnlyConnection(request.socket)) {
      return refuse(503, 'Service Unavailable', 'socket_limit');
    }
    const address = request.socket.remoteAddress ?? '';
    if ((socketsByAddress.get(address) ?? 0) >= limits.maxSocketsPerAddress) {
      return refuse(429, 'Too Many Requests', 'address_limit');
    }
    // ws completes the handshake synchronously (no verifyClient): the counts above stay exact.
    wss.handleUpgrade(request, socket, head, (ws) => opened(ws, request, address));
  };

  function opened(ws: WebSocket, request: IncomingMessage, address: string): void {
    const connection: Connection = {
      id: nextConnectionId++,
      socket: ws,
      request,
      address,
      operations: new Map(),
      open: 0,
      idle: undefined,
      pendingBytes: 0,
    };
    stats.sockets += 1;
    socketsByAddress.set(address, (socketsByAddress.get(address) ?? 0) + 1);
    metrics.socketOpened();
    startIdle(connection);
    ws.on('error', () => closeSocket(ws, CloseCode.InternalServerError, 'Socket error'));
    const stopKeepAlive = startKeepAlive(ws, limits.keepAliveMs);
    const onMessage = (handle: (data: string) => Promise<void>) =>
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // The protocol is text: a binary frame is refused as graphql-ws refuses any bad message.
        if (isBinary) return closeSocket(ws, CloseCode.BadRequest, 'Invalid message received');
        handle(data.toString('utf8')).catch((error: unknown) => {
          logger.error({ connection: connection.id, err: error }, 'WebSocket message handling failed');
          closeSocket(ws, CloseCode.InternalServerError, 'Internal server error');
        });
      });
    const send = (data: string) => sendFrame(connection, data);
    const close = (code?: number, reason?: string) => closeSocket(ws, code ?? 1000, reason);
    const closed = protocol.opened({ protocol: ws.protocol, send, close, onMessage }, connection);
    ws.once('close', (code, reason) => {
      stopKeepAlive();
      clearTimeout(connection.idle);
      stats.sockets -= 1;
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left === 0) socketsByAddress.delete(address);
      else socketsByAddress.set(address, left);
      metrics.socketClosed();
      void closed(code, reason.toString('utf8'));
    });
  }

  /**
   * A live operation's result resolves when the frame is handed to the kernel, or when the
   * operation ends: a reader that stops reading stops that operation's sender (its results
   * conflate meanwhile). Any other frame resolves at once: graphql-ws's handlers of refused or
   * ended operations hold their messages while they wait, and are not bounded in number; their
   * frames are, as the send buffer that holds them (see bound).
   */
  function sendFrame(connection: Connection, data: string): Promise<void> {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    const id = nextFrameId(data);
    const operation = id === undefined ? undefined : connection.operations.get(id);
    if (operation === undefined || operation.ended) {
      ws.send(data);
      bound(connection);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      stats.sendsWaiting += 1;
      const release = () => {
        if (operation.release !== release) return;
        operation.release = undefined;
        stats.sendsWaiting -= 1;
        resolve();
      };
      operation.release = release;
      // A failed write ends in the socket's close, which ends the operation.
      ws.send(data, release);
      bound(connection);
    });
  }

  /** Past SUBSCRIPTION_MAX_BUFFERED_BYTES (send buffer and pending results) a socket closes (1008). */
  function bound(connection: Connection): void {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + connection.pendingBytes <= limits.maxBufferedBytes) return;
    metrics.socketRefused('slow_consumer');
    closeSocket(ws, 1008, 'Slow consumer: too much waiting to be sent');
  }

  /** Refuses new sockets (503), closes every open one with 1001, drops those still open after the grace. */
  async function close(): Promise<void> {
    closing = true;
    const gone = [...wss.clients].map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === socket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          closeSocket(socket, 1001, 'Going away');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.http.shutdownTimeoutMs)));
    await Promise.race([Promise.all(gone), grace]);
    clearTimeout(timer);
    for (const socket of wss.clients) socket.terminate();
    httpServer.off('upgrade', onUpgrade);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    watches.close();
  }

  httpServer.on('upgrade', onUpgrade);
  return { server: stats, drainPlugin: { serverWillStart: async () => ({ drainServer: close }) } };
}

/** Closes once, with the reason cut to the protocol's 123 bytes; a peer that does not answer is dropped. */
function closeSocket(ws: WebSocket, code: number, reason = ''): void {
  if (ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED) return;
  const cut = Buffer.from(reason).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '');
  ws.close(code, Buffer.byteLength(reason) <= 123 ? reason : `${cut}…`);
  setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
}

/** Pings every `intervalMs`; a socket that has not answered the previous ping by the next is dropped. */
function startKeepAlive(ws: WebSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  let answered = true;
  ws.on('pong', () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) return ws.terminate();
    answered = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The id of a result frame (graphql-ws writes `{"id":<id>,"type":"next",…}`), undefined for any other. */
const NEXT_FRAME = /^\{"id":("(?:[^"\\]|\\.)*"),"type":"next"/;

export function nextFrameId(data: string): string | undefined {
  const quoted = NEXT_FRAME.exec(data)?.[1];
  return quoted === undefined ? undefined : (JSON.parse(quoted) as string);
}

function refusal(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

function tooMany(message: string, scope: 'connection' | 'gateway', limit: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, scope, limit } });
}

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** The gateway's formatError, without the HTTP status hints Apollo strips from HTTP responses. */
function socketFormatError(formatError: FormatError): FormatError {
  return (formatted, error) => {
    const result = formatError(formatted, error);
    if (result.extensions === undefined || !('http' in result.extensions)) return result;
    const { http: _http, ...extensions } = result.extensions;
    return { ...result, extensions };
  };
}
