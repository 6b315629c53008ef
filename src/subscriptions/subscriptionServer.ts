import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, RequestErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { isProbeOnlyConnection } from '../http/httpServer';
import type { HeaderLookup } from '../http/identity';
import type { Logger } from '../observability/logger';
import type { SubscriptionField, SubscriptionMetrics } from '../observability/metrics';
import { credentialDigest } from '../cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import { ConflatingStream } from './conflatingStream';
import { connectionHeaders } from './connectionIdentity';
import { polledAtOf } from './eventKeys';
import type { Admission, OperationRequest } from '../security/admission';
import type { GroupRequest, SubscriptionGroups } from './SubscriptionGroups';

export interface SubscriptionLimits {
  /** SUBSCRIPTION_MAX_PER_CONNECTION */
  readonly perConnection: number;
  /** SUBSCRIPTION_MAX_TOTAL */
  readonly total: number;
  /** SUBSCRIPTION_MAX_BUFFERED_BYTES: a socket's send buffer and pending results past it close it (1008). */
  readonly maxBufferedBytes: number;
  /** Results one subscription keeps pending at most (engine events: a page of jobs, each kind). */
  readonly maxPendingResults: number;
  /** SUBSCRIPTION_INIT_TIMEOUT_MS: no connection_init by then, closed with 4408. */
  readonly initTimeoutMs: number;
  /** SUBSCRIPTION_KEEPALIVE_MS: a ping this often; no pong by the next, the socket is dropped. 0: none. */
  readonly keepAliveMs: number;
  /** MAX_BODY_BYTES: the largest message accepted (1009 past it). */
  readonly maxMessageBytes: number;
  /** SUBSCRIPTION_IDLE_TIMEOUT_MS: a socket without a subscription for this long is closed (1000). */
  readonly idleTimeoutMs: number;
  /** SUBSCRIPTION_MAX_SOCKETS: WebSockets open at once (503 past it). */
  readonly maxSockets: number;
  /** SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: WebSockets one client address may hold (429 past it). */
  readonly maxSocketsPerAddress: number;
}

export interface SubscriptionServerOptions {
  readonly httpServer: HttpServer;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly groups: SubscriptionGroups;
  readonly admission: Admission;
  /** The caller's credentials from its headers, or the GatewayError that refuses them (credentialsFromHeaders). */
  readonly credentialsOf: (header: HeaderLookup) => Credentials;
  /** Whether a browser's Origin may open a socket (see originPolicy). */
  readonly originAllowed: (origin: string | undefined, host: string | undefined) => boolean;
  readonly limits: SubscriptionLimits;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly metrics: SubscriptionMetrics;
  readonly logger: Logger;
}

export interface SubscriptionServer {
  /** Sockets open now. */
  readonly sockets: number;
  /** Subscriptions open now. */
  readonly active: number;
  /** Bytes of results waiting for slow readers now, all sockets together. */
  readonly pendingBytes: number;
  /** Results whose sender waits for its socket now, all sockets together (see send). */
  readonly sendsWaiting: number;
  /** Refuses new sockets (503), closes every open one with 1001, and drops those still open after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** Close codes the gateway itself closes with (graphql-ws closes with the protocol's). */
const SocketCloseCode = {
  Unauthenticated: CloseCode.Unauthorized,
  BadIdentity: CloseCode.BadRequest,
  PolicyViolation: 1008,
  GoingAway: 1001,
  /** A normal closure: a client reconnects when it needs a subscription. */
  Idle: 1000,
} as const;

/** How long a socket closed by the gateway may take to finish its closing handshake. */
const CLOSE_HANDSHAKE_MS = 1000;

/** What the gateway keeps per socket. */
interface Connection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  /** The client address the upgrade came from (SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS). */
  readonly address: string;
  credentials?: Credentials;
  /**
   * Its operations by id, from onSubscribe until graphql-ws's onComplete (ended ones included,
   * which may still wait for their group): a subscribe may not reuse such an id, since graphql-ws
   * keeps one entry per id and two operations under one would leave one no `complete` reaches.
   */
  readonly operations: Map<string, Operation>;
  /** Its operations that have not ended: the per-socket limit counts them. */
  open: number;
  /** Closes the socket after SUBSCRIPTION_IDLE_TIMEOUT_MS while it has no operation. */
  idle: NodeJS.Timeout | undefined;
  /** Bytes of results its subscriptions hold pending (counted against SUBSCRIPTION_MAX_BUFFERED_BYTES). */
  pendingBytes: number;
}

type Ctx = Context<Record<string, unknown>, Connection>;

/**
 * One admitted subscribe, counted once when admitted and uncounted once when it ends (the
 * client's `complete`, its source ending, the socket closing), in whatever order graphql-ws
 * reports these.
 *
 * Its `stream` (the group pushes its results there) is what graphql-ws holds for the id from
 * onSubscribe on, before the group is joined: its return() on `complete` or close ends the
 * operation whether or not the group has been joined; one joined later is left at once.
 */
class Operation {
  readonly startedAt = performance.now();
  events = 0;
  private ended = false;
  private leaveGroup: (() => void) | undefined;
  /** What runs when the operation ends: removed again by whatever no longer waits for the end. */
  private readonly onEnded = new Set<() => void>();

  constructor(
    readonly connection: Connection,
    readonly id: string,
    readonly field: SubscriptionField,
    readonly operationName: string | undefined,
    readonly group: GroupRequest,
    readonly stream: ConflatingStream<FormattedExecutionResult>,
    private readonly onEnd: (operation: Operation) => void,
  ) {}

  joined(leave: () => void): void {
    if (this.ended) leave();
    else this.leaveGroup = leave;
  }

  /** Ends the operation, once: uncounted, its group left. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const release of this.onEnded) release();
    this.onEnded.clear();
    void this.stream.return();
    this.leaveGroup?.();
    this.onEnd(this);
  }

  /** Runs `release` when the operation ends (at once if it has); the returned function cancels it. */
  untilEnd(release: () => void): () => void {
    if (this.ended) {
      release();
      return () => {};
    }
    this.onEnded.add(release);
    return () => this.onEnded.delete(release);
  }
}

/**
 * GraphQL over WebSocket (graphql-ws's protocol server) on the HTTP server's port and path. Our
 * adapter between `ws` and graphql-ws rather than its `useServer`, for what that one leaves out:
 * the Origin check and socket caps before the upgrade, close codes for refused identities, sends
 * that wait for the socket (so a slow reader's events conflate instead of queueing) and a bound on
 * each socket's send buffer. The operations' bookkeeping lives in graphql-ws's hooks.
 *
 * Every document goes through the checks HTTP operations meet (see createAdmission), then
 * joins the group of identical subscriptions (see SubscriptionGroups).
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { limits, metrics, logger } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
    // Compression would cost CPU per message per socket and opens memory attacks (zip bombs).
    perMessageDeflate: false,
  });
  const connections = new Set<Connection>();
  const socketsByAddress = new Map<string, number>();
  let nextConnectionId = 1;
  let active = 0;
  let pendingBytes = 0;
  let sendsWaiting = 0;
  let closing = false;

  const protocol = makeServer<Record<string, unknown>, Connection>({
    schema: options.schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect: (ctx) => identify(ctx),
    onSubscribe: (ctx, id, payload) => admit(ctx, id, payload),
    // The group's results are formatted already; graphql-ws's types want execution results.
    subscribe: (args) => join(args) as never,
    onNext: (ctx, id, _payload, _args, result) => {
      const operation = ctx.extra.operations.get(id);
      if (operation !== undefined) {
        operation.events += 1;
        const polled = polledAtOf(result);
        metrics.eventSent(operation.field, polled === undefined ? undefined : performance.now() - polled);
      }
      // Results come formatted from the group (errors masked once for all its members).
      return result as FormattedExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => errors.map((error) => options.formatError(error.toJSON(), error)),
    onComplete: (ctx, id) => {
      ctx.extra.operations.get(id)?.end();
      ctx.extra.operations.delete(id);
    },
    // graphql-ws returns the streams it still holds; these are the ones it may have lost track of.
    onClose: (ctx) => {
      for (const operation of [...ctx.extra.operations.values()]) operation.end();
    },
  });

  function identify(ctx: Ctx): boolean {
    const connection = ctx.extra;
    try {
      connection.credentials = options.credentialsOf(connectionHeaders(ctx.connectionParams, connection.request.headers));
      return true;
    } catch (error) {
      const unauthenticated = error instanceof GatewayError && error.code === ErrorCode.UNAUTHENTICATED;
      metrics.socketRefused(unauthenticated ? 'unauthenticated' : 'bad_request');
      const message = error instanceof GraphQLError ? error.message : 'The connection could not be identified.';
      // Our code first: graphql-ws then closes with 4403, which a closing socket ignores.
      closeSocket(connection.socket, unauthenticated ? SocketCloseCode.Unauthenticated : SocketCloseCode.BadIdentity, message);
      return false;
    }
  }

  function admit(ctx: Ctx, id: string, payload: OperationRequest): ExecutionArgs | readonly GraphQLError[] {
    const connection = ctx.extra;
    const credentials = connection.credentials;
    if (credentials === undefined) return [new GraphQLError('Not identified.', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
    // The limits first: a socket past them must not make the gateway parse every document it sends.
    if (connection.open >= limits.perConnection) {
      metrics.subscribeRefused('connection_limit');
      return [tooMany(`This connection has ${limits.perConnection} subscriptions open, the most it may (SUBSCRIPTION_MAX_PER_CONNECTION).`, 'connection', limits.perConnection)];
    }
    if (active >= limits.total) {
      metrics.subscribeRefused('total_limit');
      return [tooMany('The gateway serves as many subscriptions as it may (SUBSCRIPTION_MAX_TOTAL): retry later.', 'gateway', limits.total)];
    }
    if (connection.operations.has(id)) {
      metrics.subscribeRefused('invalid');
      return [new GraphQLError('A subscription with this id is still ending: subscribe with another id.', { extensions: { code: RequestErrorCode.BAD_REQUEST } })];
    }
    const admitted = options.admission.admit(payload, 'websocket');
    if (Array.isArray(admitted)) {
      metrics.subscribeRefused('invalid');
      return admitted;
    }
    const { document, hash, operationName, name, variables, field } = admitted as Exclude<typeof admitted, readonly GraphQLError[]>;
    const group: GroupRequest = { hash, document, operationName, variables, credentials };
    const stream = new ConflatingStream<FormattedExecutionResult>(
      limits.maxPendingResults,
      () => metrics.conflated(),
      () => operation.end(),
      (delta) => {
        connection.pendingBytes += delta;
        pendingBytes += delta;
        if (delta > 0) bound(connection);
      },
    );
    const operation: Operation = new Operation(connection, id, field, name, group, stream, ended);
    connection.operations.set(id, operation);
    connection.open += 1;
    clearTimeout(connection.idle);
    active += 1;
    metrics.subscriptionStarted(field);
    logger.info({ connection: connection.id, subscription: id, field, operationName: name }, 'subscription started');
    // graphql-ws keeps null for the id until `subscribe` resolves: a `complete` meanwhile ends this stream.
    ctx.subscriptions[id] = operation.stream;
    return { schema: options.schema, document, operationName, variableValues: variables, contextValue: operation };
  }

  /** graphql-ws's `subscribe`: never throws (a throw would close the socket with 4500 and leave the operation counted). */
  async function join(args: ExecutionArgs): Promise<AsyncGenerator<FormattedExecutionResult> | ExecutionResult> {
    const operation = args.contextValue as Operation;
    let joined: Awaited<ReturnType<SubscriptionGroups['join']>>;
    try {
      joined = await options.groups.join(operation.group, operation.stream);
    } catch (error) {
      // A code from the closed set passes; anything else the formatter masks and logs.
      const formatted = error instanceof GraphQLError ? error.toJSON() : new GraphQLError('Internal server error').toJSON();
      return { errors: [options.formatError(formatted, error)] } as unknown as ExecutionResult;
    }
    if (typeof joined !== 'function') return joined as unknown as ExecutionResult;
    operation.joined(joined);
    return operation.stream;
  }

  function ended(operation: Operation): void {
    const connection = operation.connection;
    connection.open -= 1;
    active -= 1;
    metrics.subscriptionEnded(operation.field);
    logger.info(
      {
        connection: connection.id,
        subscription: operation.id,
        field: operation.field,
        operationName: operation.operationName,
        events: operation.events,
        durationMs: Math.round(performance.now() - operation.startedAt),
      },
      'subscription ended',
    );
    if (connection.open === 0) startIdle(connection);
  }

  /** A socket without an operation for SUBSCRIPTION_IDLE_TIMEOUT_MS is closed: it holds a socket slot for nothing. */
  function startIdle(connection: Connection): void {
    clearTimeout(connection.idle);
    connection.idle = setTimeout(() => {
      if (connection.open > 0) return;
      metrics.socketRefused('idle');
      closeSocket(connection.socket, SocketCloseCode.Idle, 'Idle: no subscription (SUBSCRIPTION_IDLE_TIMEOUT_MS)');
    }, limits.idleTimeoutMs);
    connection.idle.unref();
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error before the handshake completes must not reach the process.
    socket.on('error', () => socket.destroy());
    if (pathOf(request.url) !== options.path) return refuseUpgrade(socket, 404, 'Not Found', 'path');
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable', 'shutting_down');
    const origin = request.headers.origin;
    if (!options.originAllowed(origin, request.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden', 'origin');
    // Before the handshake, so a socket past a cap never holds a slot; nor one of the probes' reserve.
    if (connections.size >= limits.maxSockets || isProbeOnlyConnection(request.socket)) return refuseUpgrade(socket, 503, 'Service Unavailable', 'socket_limit');
    const address = request.socket.remoteAddress ?? '';
    if ((socketsByAddress.get(address) ?? 0) >= limits.maxSocketsPerAddress) return refuseUpgrade(socket, 429, 'Too Many Requests', 'address_limit');
    // ws completes the handshake synchronously (no verifyClient): the counts above stay exact.
    wss.handleUpgrade(request, socket, head, (ws) => opened(ws, request, address));
  };

  function refuseUpgrade(socket: Duplex, status: number, reason: string, metric: Parameters<SubscriptionMetrics['socketRefused']>[0]): void {
    metrics.socketRefused(metric);
    const body = `${reason}\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  function opened(ws: WebSocket, request: IncomingMessage, address: string): void {
    const connection: Connection = { id: nextConnectionId++, socket: ws, request, address, operations: new Map(), open: 0, idle: undefined, pendingBytes: 0 };
    connections.add(connection);
    socketsByAddress.set(address, (socketsByAddress.get(address) ?? 0) + 1);
    metrics.socketOpened();
    startIdle(connection);
    ws.on('error', () => closeSocket(ws, CloseCode.InternalServerError, 'Socket error'));
    const keepAlive = startKeepAlive(ws, limits.keepAliveMs);
    const closed = protocol.opened(
      {
        protocol: ws.protocol,
        send: (data) => send(connection, data),
        close: (code, reason) => closeSocket(ws, code ?? 1000, reason),
        onMessage: (handle) =>
          ws.on('message', (data: Buffer, isBinary: boolean) => {
            // The protocol is text; a binary frame is a client's mistake, refused as graphql-ws refuses any bad message.
            if (isBinary) return closeSocket(ws, CloseCode.BadRequest, 'Invalid message received');
            handle(data.toString('utf8')).catch((error: unknown) => {
              logger.error({ connection: connection.id, err: error }, 'WebSocket message handling failed');
              closeSocket(ws, CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      connection,
    );
    ws.once('close', (code, reason) => {
      keepAlive();
      clearTimeout(connection.idle);
      connections.delete(connection);
      const left = (socketsByAddress.get(connection.address) ?? 1) - 1;
      if (left === 0) socketsByAddress.delete(connection.address);
      else socketsByAddress.set(connection.address, left);
      metrics.socketClosed();
      void closed(code, reason.toString('utf8'));
    });
  }

  /**
   * An open operation's result resolves when the frame is handed to the kernel, or when the
   * operation ends: a reader that stops reading stops that operation's sender (its results
   * conflate meanwhile). Any other frame resolves at once: graphql-ws's handler of a refused or
   * ended operation holds its message while it waits, and such handlers are not bounded in
   * number; their frames are, as the send buffer that holds them (see bound).
   */
  function send(connection: Connection, data: string): Promise<void> {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    const id = nextFrameId(data);
    const operation = id === undefined ? undefined : connection.operations.get(id);
    if (operation === undefined) {
      ws.send(data);
      bound(connection);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      sendsWaiting += 1;
      let cancel = () => {};
      let waiting = true;
      const sent = () => {
        if (!waiting) return;
        waiting = false;
        sendsWaiting -= 1;
        cancel();
        resolve();
      };
      cancel = operation.untilEnd(sent);
      // A failed write ends in the socket's close, which ends the operation.
      ws.send(data, sent);
      bound(connection);
    });
  }

  /**
   * What waits for a socket (its send buffer and the results its subscriptions hold pending) past
   * SUBSCRIPTION_MAX_BUFFERED_BYTES closes it (1008): a reader that does not read costs bounded memory.
   */
  function bound(connection: Connection): void {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN || ws.bufferedAmount + connection.pendingBytes <= limits.maxBufferedBytes) return;
    metrics.socketRefused('slow_consumer');
    closeSocket(ws, SocketCloseCode.PolicyViolation, 'Slow consumer: too much waiting to be sent');
  }

  options.httpServer.on('upgrade', onUpgrade);

  return {
    get sockets() {
      return connections.size;
    },
    get active() {
      return active;
    },
    get pendingBytes() {
      return pendingBytes;
    },
    get sendsWaiting() {
      return sendsWaiting;
    },
    async close(graceMs) {
      closing = true;
      const gone = [...connections].map(
        ({ socket }) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === socket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            closeSocket(socket, SocketCloseCode.GoingAway, 'Going away');
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(gone), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const { socket } of connections) socket.terminate();
      options.httpServer.off('upgrade', onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Closes with a code and reason (cut to the protocol's 123 bytes), once: later calls are no-ops.
 * A peer that does not finish the closing handshake in time is dropped.
 */
function closeSocket(ws: WebSocket, code: number, reason: string | undefined): void {
  if (ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED) return;
  ws.close(code, limitReason(reason ?? ''));
  setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
}

function limitReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  return Buffer.from(reason).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '…';
}

/** Pings every `intervalMs`; a socket that has not answered the previous ping by the next is dropped. Returns the stop. */
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

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function tooMany(message: string, scope: 'connection' | 'gateway', limit: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, scope, limit } });
}

/** The gateway's formatError, without the HTTP status hints Apollo strips from HTTP responses. */
export function socketFormatError(
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const result = formatError(formatted, error);
    if (result.extensions === undefined || !('http' in result.extensions)) return result;
    const { http: _http, ...extensions } = result.extensions;
    return { ...result, extensions };
  };
}
