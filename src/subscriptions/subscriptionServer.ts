import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, MessageType, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode, RequestErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { createContext, type ContextServices } from '../graphql/context';
import { createFormatError } from '../graphql/formatError';
import { originAllowedBy, type CorsPolicy } from '../http/cors';
import { GRAPHQL_PATH, isProbeOnlyConnection, requestError } from '../http/httpServer';
import { credentialsFromHeaders, IDENTITY_HEADERS } from '../http/identity';
import { CallerShares, STRANGERS } from '../cache/callerShares';
import { callerDigest, credentialDigest } from '../cache/scopeKey';
import { boundString, OPERATION_NAME_MAX_CHARS, type Logger } from '../observability/logger';
import type { GatewayMetrics, SocketRefusal, SubscriptionField } from '../observability/metrics';
import type { Admission, AdmittedOperation, OperationRequest } from '../security/admission';
import { addressKey } from '../http/addressKey';
import { CseApi } from '../upstream/CseApi';
import type { Credentials } from '../upstream/credentials';
import { deadlineIn } from '../upstream/stages/types';
import { nextTurn, requestPlace } from '../upstream/turns';
import { ConflatingStream, polledAtOf } from './conflatingStream';
import { maxPendingEvents, Watches, type WatchFleet } from './EngineWatch';
import { SubscriptionGroups, type GroupRequest } from './SubscriptionGroups';

export interface SubscriptionWiring {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly admission: Admission;
  readonly cors: CorsPolicy;
  readonly services: ContextServices;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly fleet: WatchFleet | undefined;
}

interface Connection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  /** The upgrade's client address (addressKey). */
  readonly address: string;
  credentials?: Credentials;
  /** Its caller (callerDigest) once identified; `stranger` while it holds the strangers' share too. */
  own?: string;
  stranger?: boolean;
  /** graphql-ws's context of the socket, from its connection_init on: whether it acknowledged it. */
  graphqlWs?: Ctx;
  /** Until onComplete: an id still ending may not be reused (one `complete` would reach neither). */
  readonly operations: Map<string, Operation>;
  /** Ids a client completed and subscribed again at once: graphql-ws would send the old one's `complete`. */
  readonly muted: Set<string>;
  open: number;
  idle?: NodeJS.Timeout;
  /** The message being handled: graphql-ws reads it into onSubscribe in the same turn, and holds its
   * text and parse for the subscription's life. */
  messageBytes: number;
  /** Its JSON objects, arrays and members: each parsed value holds far more than its text. */
  messageValues: number;
  pendingBytes: number;
}

interface Operation {
  readonly id: string;
  readonly field: SubscriptionField;
  /** For its log lines: cut as an HTTP operation's is. */
  readonly name: string | undefined;
  readonly group: GroupRequest;
  readonly stream: ConflatingStream<FormattedExecutionResult>;
  readonly startedAt: number;
  /** Its credentials' caller (callerDigest); `stranger` while it holds the strangers' share too. */
  readonly own: string;
  stranger: boolean;
  /** What it counts in the shares and SUBSCRIPTION_MAX_TOTAL: one per SUBSCRIPTION_UNIT_BYTES its document holds. */
  readonly units: number;
  events: number;
  ended: boolean;
  leaveGroup?: () => void;
  /** Resolves the send waiting for the socket (one at a time: graphql-ws awaits each). */
  release?: () => void;
}

type Ctx = Context<Record<string, unknown>, Connection>;

/** What counts in the callers' shares: a socket, or a subscription. */
type ShareUnit = Connection | Operation;

/** The longest subscription id admitted (characters); a UUID has 36. */
export const MAX_ID_LENGTH = 128;

/** Not graphql-ws's `useServer`: caps before the upgrade, our close codes, sends that wait for the socket. */
export function serveSubscriptions(
  config: GatewayConfig,
  { httpServer, schema, admission, cors, services, logger, metrics: gatewayMetrics, fleet }: SubscriptionWiring,
) {
  const limits = config.subscriptions;
  const metrics = gatewayMetrics.subscriptions;
  const unexpected = (error: unknown) => logger.error({ err: error }, 'a subscription poll failed unexpectedly');
  const watches = new Watches(config, services.http, metrics, fleet, unexpected, services.answers);
  // Only the socket's contexts have watches: over HTTP the Subscription resolvers have none.
  const socketServices: ContextServices = { ...services, watches };
  const gatewayFormatError = createFormatError(logger);
  // Without the HTTP status hints Apollo strips from HTTP responses.
  const formatError = (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = gatewayFormatError(formatted, error);
    const { http, ...extensions } = result.extensions ?? {};
    return http === undefined ? result : { ...result, extensions };
  };
  const groups = new SubscriptionGroups({
    schema,
    contextFor: ({ credentials, address }, beforeCall) => {
      const deadline = deadlineIn(config.limits.operationTimeoutMs);
      return createContext(socketServices, { credentials, address, deadline, refusal: {}, beforeCall });
    },
    formatError,
    maxResultBytes: limits.maxBufferedBytes,
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.http.maxBodyBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
    // Compression costs CPU per message per socket and opens memory attacks (zip bombs).
    perMessageDeflate: false,
  });
  const byAddress = new CallerShares(limits.maxSocketsPerAddress);
  // `units`: subscriptions as SUBSCRIPTION_MAX_TOTAL counts them (a large document, several).
  const stats = { sockets: 0, active: 0, units: 0, pendingBytes: 0, sendsWaiting: 0 };
  // Per caller: one caller's sockets, from a few addresses, must not hold SUBSCRIPTION_MAX_TOTAL, nor
  // SUBSCRIPTION_MAX_SOCKETS.
  const subscriptionShares = new CallerShares(Math.max(limits.maxPerConnection, Math.floor(limits.maxTotal / 4)));
  // At least a few: a browser's tabs.
  const socketShares = new CallerShares(Math.min(limits.maxSockets, Math.max(4, Math.floor(limits.maxSockets / 4))));
  // What strangers hold, by credential scope: a unit leaves their share once the upstream has accepted its
  // credentials (a replica fresh from a restart knows no caller at first), as the credential gate tells.
  const strangerUnits = new Map<string, Set<ShareUnit>>();
  const scopeOf = (unit: ShareUnit) => credentialDigest('group' in unit ? unit.group.credentials : unit.credentials!);
  const forgetStranger = (unit: ShareUnit) => {
    const scope = scopeOf(unit);
    const units = strangerUnits.get(scope);
    units?.delete(unit);
    if (units?.size === 0) strangerUnits.delete(scope);
  };
  const sharesOf = (unit: ShareUnit) => ('group' in unit ? subscriptionShares : socketShares);
  const unitsOf = (unit: ShareUnit) => ('group' in unit ? unit.units : 1);
  // A unit counts in its token's share, and in the strangers' while `stranger`.
  const takeUnit = (unit: ShareUnit) => {
    sharesOf(unit).take(unit.own!, unit.stranger === true, unitsOf(unit));
    if (unit.stranger !== true) return;
    const scope = scopeOf(unit);
    let units = strangerUnits.get(scope);
    if (units === undefined) strangerUnits.set(scope, (units = new Set()));
    units.add(unit);
  };
  const releaseUnit = (unit: ShareUnit) => {
    if (unit.own === undefined) return;
    sharesOf(unit).release(unit.own, unit.stranger === true, unitsOf(unit));
    if (unit.stranger === true) forgetStranger(unit);
    unit.stranger = false;
  };
  const leaveStrangers = (unit: ShareUnit) => {
    if (unit.stranger !== true) return;
    sharesOf(unit).add(STRANGERS, -unitsOf(unit));
    unit.stranger = false;
    forgetStranger(unit);
    // A caller's socket without a subscription waits the caller's idle time, not a stranger's.
    if (!('group' in unit) && unit.open === 0) startIdle(unit);
  };
  services.http.onAccepted((scope) => {
    for (const unit of [...(strangerUnits.get(scope) ?? [])]) {
      try {
        leaveStrangers(unit);
      } catch (error) {
        logger.error({ err: error }, 'a unit could not leave the strangers\' share');
      }
    }
  });
  let nextConnectionId = 1;
  let closing = false;

  const protocol = makeServer<Record<string, unknown>, Connection>({
    schema,
    connectionInitWaitTimeout: limits.initTimeoutMs,
    onConnect: identify,
    onSubscribe: admit,
    // The group's results are formatted already; graphql-ws's types want execution results.
    subscribe: (args) => join(args.contextValue as Operation) as never,
    onNext: (_ctx, _id, _payload, args, result) => {
      const operation = args.contextValue as Operation;
      operation.events += 1;
      const polled = polledAtOf(result);
      metrics.eventSent(operation.field, polled === undefined ? undefined : performance.now() - polled);
      return result as FormattedExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    onComplete: (ctx, id) => {
      const operation = ctx.extra.operations.get(id);
      void operation?.stream.return();
      ctx.extra.operations.delete(id);
      // The id is a new subscribe's already: this `complete` (sent next) would read as that one's end.
      if (operation !== undefined && id in ctx.subscriptions && ctx.subscriptions[id] !== operation.stream) ctx.extra.muted.add(id);
    },
    // graphql-ws returns the streams it still holds; these are the ones it may have lost track of.
    onClose: (ctx) => {
      for (const operation of ctx.extra.operations.values()) void operation.stream.return();
      releaseUnit(ctx.extra);
    },
  });

  async function identify(ctx: Ctx): Promise<boolean> {
    const connection = ctx.extra;
    connection.graphqlWs = ctx;
    const headers = connectionHeaders(ctx.connectionParams, connection.request.headers);
    let credentials: Credentials;
    try {
      credentials = credentialsFromHeaders(headers, config.upstream.projectId);
    } catch (error) {
      const unauthenticated = error instanceof GatewayError && error.code === ErrorCode.UNAUTHENTICATED;
      metrics.socketRefused(unauthenticated ? 'unauthenticated' : 'bad_request');
      const message = error instanceof GraphQLError ? error.message : 'The connection could not be identified.';
      // Our code first: graphql-ws then closes with 4403, which a closing socket ignores.
      closeSocket(connection.socket, unauthenticated ? CloseCode.Unauthorized : CloseCode.BadRequest, message);
      return false;
    }
    const own = callerDigest(credentials);
    const ownFull = `These credentials (or, until the upstream accepts them, all such together) hold ${socketShares.limit} sockets`;
    if (socketShares.full(own)) return refuseSocket(connection, 'caller_limit', TRY_AGAIN_LATER, ownFull);
    let stranger = services.http.isStranger(credentials);
    // Made-up tokens fill the strangers' share: the upstream is asked whether these are a caller's, so that
    // a new caller is not locked out by them (a made-up token's 401 is then remembered by the gate). The
    // sockets waiting for its answer hold a share of their own (a slow upstream cannot make them the cap),
    // and their token's: a token at its share asks nothing more.
    if (stranger && (socketShares.full(STRANGERS) || subscriptionShares.full(STRANGERS))) {
      if (socketShares.full(ASKING)) return refuseSocket(connection, 'caller_limit', TRY_AGAIN_LATER, STRANGERS_FULL);
      socketShares.add(ASKING, 1);
      socketShares.add(own, 1);
      const refusal = await askUpstream(connection, credentials).finally(() => {
        socketShares.add(ASKING, -1);
        socketShares.add(own, -1);
      });
      if (connection.socket.readyState !== connection.socket.OPEN) return false;
      if (refusal?.code === ErrorCode.UNAUTHENTICATED) return refuseSocket(connection, 'unauthenticated', CloseCode.Unauthorized, refusal.message);
      if (refusal !== undefined) return refuseSocket(connection, 'upstream_unavailable', TRY_AGAIN_LATER, refusal.message);
      stranger = false;
    }
    if (!socketShares.room(own, stranger)) return refuseSocket(connection, 'caller_limit', TRY_AGAIN_LATER, ownFull);
    connection.credentials = credentials;
    connection.own = own;
    connection.stranger = stranger;
    takeUnit(connection);
    // A stranger's socket waits for its first subscribe no longer than for its connection_init.
    if (stranger) startIdle(connection);
    return true;
  }

  function refuseSocket(connection: Connection, reason: SocketRefusal, code: number, message: string): false {
    metrics.socketRefused(reason);
    closeSocket(connection.socket, code, message);
    return false;
  }

  /** One upstream call with the credentials: undefined once they are known to be a caller's. */
  async function askUpstream(connection: Connection, credentials: Credentials): Promise<GatewayError | undefined> {
    const abort = new AbortController();
    const stop = () => abort.abort();
    connection.socket.once('close', stop);
    const deadline = deadlineIn(config.limits.operationTimeoutMs);
    // Its address's part of the strangers' upstream share, as an HTTP request's.
    const request = { credentials, address: connection.address, signal: abort.signal, deadline, refusal: {} };
    const { pageBase, timeFormat } = config.upstream;
    const api = new CseApi({ http: services.http, request, limit: (call) => call(), pageBase, timeFormat });
    let failure: unknown;
    await api.listEngines({ index: 0, size: 1 }).catch((error: unknown) => (failure = error));
    connection.socket.off('close', stop);
    // A 403 accepts the token (its project is not the caller's to see): the gate says so.
    if (!services.http.isStranger(credentials)) return undefined;
    if (failure instanceof GatewayError && failure.code === ErrorCode.UNAUTHENTICATED) return failure;
    return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `${STRANGERS_FULL}, and the upstream could not be asked about these: retry later`);
  }

  /** Whether the socket's credentials still hold the strangers' share: the upstream was not asked about
   * them on connecting, and has not accepted them since. */
  function strangerNow(connection: Connection, credentials: Credentials): boolean {
    return connection.stranger === true && services.http.isStranger(credentials);
  }

  /** Where an acknowledged socket's messages wait for their turns: its caller's place, or while it is a
   * stranger's, its address's (requestPlace). */
  function placeOf(connection: Connection): string {
    const { credentials, own } = connection;
    if (credentials === undefined || own === undefined) return requestPlace('', true, connection.address);
    return requestPlace(own, strangerNow(connection, credentials), connection.address);
  }

  function admit(ctx: Ctx, id: string, payload: OperationRequest): ExecutionArgs | readonly GraphQLError[] {
    const connection = ctx.extra;
    // graphql-ws subscribes only after identify accepted the socket; should that change, fail closed.
    const credentials = connection.credentials;
    if (credentials === undefined) {
      return [new GraphQLError('Not identified.', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
    }
    // graphql-ws keeps the id while the subscription lives and repeats it in every result: one longer
    // than any client's (graphql-ws's client sends UUIDs) is refused as graphql-ws refuses a bad message.
    if (id.length > MAX_ID_LENGTH) {
      // Once, should the socket be closing already.
      if (connection.socket.readyState === connection.socket.OPEN) metrics.socketRefused('bad_request');
      closeSocket(connection.socket, CloseCode.BadRequest, 'Invalid message received: id too long');
      return [new GraphQLError('Invalid id.', { extensions: { code: RequestErrorCode.BAD_REQUEST } })];
    }
    // The limits first: a socket past them must not make the gateway parse every document it sends.
    const { maxPerConnection: perConnection, maxTotal } = limits;
    const code = ErrorCode.TOO_MANY_SUBSCRIPTIONS;
    if (connection.open >= perConnection) {
      metrics.subscribeRefused('connection_limit');
      const message = `This connection has ${perConnection} subscriptions open, ` +
        'the most it may (SUBSCRIPTION_MAX_PER_CONNECTION).';
      return [new GraphQLError(message, { extensions: { code, scope: 'connection', limit: perConnection } })];
    }
    const totalRefusal = () => {
      metrics.subscribeRefused('total_limit');
      const message =
        'The gateway serves as many subscriptions as it may (SUBSCRIPTION_MAX_TOTAL): retry later.';
      return [new GraphQLError(message, { extensions: { code, scope: 'gateway', limit: maxTotal } })];
    };
    if (stats.units >= maxTotal) return totalRefusal();
    // Made-up tokens, each a caller of its own, hold one share together; a caller's own share counts too
    // (an enterprise project not yet answered makes a known caller a stranger again). A socket the upstream
    // was asked about is a caller's.
    const own = callerDigest(credentials);
    const stranger = strangerNow(connection, credentials);
    const callerRefusal = () => {
      const { limit } = subscriptionShares;
      metrics.subscribeRefused('caller_limit');
      const message = `These credentials (or, until the upstream accepts them, all such together) hold ${limit} subscriptions, ` +
        'a quarter of SUBSCRIPTION_MAX_TOTAL, the most one caller may (a document past 16 KiB counts as several).';
      return [new GraphQLError(message, { extensions: { code, scope: 'caller', limit } })];
    };
    if (!subscriptionShares.room(own, stranger)) return callerRefusal();
    if (connection.operations.has(id)) {
      metrics.subscribeRefused('invalid');
      const message = 'A subscription with this id is still ending: subscribe with another id.';
      return [new GraphQLError(message, { extensions: { code: RequestErrorCode.BAD_REQUEST } })];
    }
    const admitted = admission.admit(payload, 'websocket');
    if (Array.isArray(admitted)) {
      metrics.subscribeRefused('invalid');
      return admitted;
    }
    const { document, hash, operationName, name, variables, field, bytes, items } = admitted as AdmittedOperation;
    // A live subscription holds its document, and graphql-ws its message's text and parse (the group a copy
    // of its variables): one padded anywhere weighs as many units as it holds.
    const held = bytes + MESSAGE_COPIES * connection.messageBytes + BYTES_PER_PARSED_VALUE * connection.messageValues;
    const units = Math.max(1, Math.ceil(held / SUBSCRIPTION_UNIT_BYTES));
    if (!subscriptionShares.room(own, stranger, units)) return callerRefusal();
    if (stats.units + units > maxTotal) return totalRefusal();
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
    const group: GroupRequest = { hash, document, operationName, variables, credentials, address: connection.address, items };
    const startedAt = performance.now();
    const logName = name === undefined ? undefined : boundString(name, OPERATION_NAME_MAX_CHARS);
    const operation: Operation = { id, field, name: logName, group, stream, startedAt, own, stranger, units, events: 0, ended: false };
    connection.operations.set(id, operation);
    connection.open += 1;
    takeUnit(operation);
    clearTimeout(connection.idle);
    stats.active += 1;
    stats.units += units;
    metrics.subscriptionStarted(field, units);
    const fields = { connection: connection.id, subscription: id, field, operationName: logName };
    logger.info(fields, 'subscription started');
    // graphql-ws keeps null for the id until `subscribe` resolves: a `complete` meanwhile ends this stream.
    ctx.subscriptions[id] = stream;
    return { schema, document, operationName, variableValues: variables, contextValue: operation };
  }

  /** graphql-ws's `subscribe`: never throws (a throw would close the socket with 4500). */
  async function join(operation: Operation): Promise<AsyncGenerator | ExecutionResult> {
    const joined = await groups.join(operation.group, operation.stream).catch((error: unknown) => {
      const graphqlError = error instanceof GraphQLError ? error : new GraphQLError('Internal server error');
      return { errors: [formatError(graphqlError.toJSON(), error)] };
    });
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
    stats.units -= operation.units;
    releaseUnit(operation);
    metrics.subscriptionEnded(operation.field, operation.units);
    const durationMs = Math.round(performance.now() - operation.startedAt);
    const { id: subscription, field, name: operationName, events } = operation;
    const fields = { connection: connection.id, subscription, field, operationName, events, durationMs };
    logger.info(fields, 'subscription ended');
    if (connection.open === 0) startIdle(connection);
  }

  function startIdle(connection: Connection): void {
    clearTimeout(connection.idle);
    // Its subscriptions end as it closes: a closed socket has no idle time to wait.
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    const stranger = connection.stranger === true;
    // A stranger's is the shorter of the two; the reason names the one that applied.
    const initFirst = stranger && limits.initTimeoutMs < limits.idleTimeoutMs;
    const [ms, setting] = initFirst ? [limits.initTimeoutMs, 'SUBSCRIPTION_INIT_TIMEOUT_MS'] : [limits.idleTimeoutMs, 'SUBSCRIPTION_IDLE_TIMEOUT_MS'];
    connection.idle = setTimeout(() => {
      if (connection.open > 0) return;
      metrics.socketRefused('idle');
      closeSocket(connection.socket, 1000, `Idle: no subscription (${setting})`);
    }, ms).unref();
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error before the handshake completes must not reach the process.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, metric: SocketRefusal, body = `${STATUS_CODES[status]}\n`, type = 'text/plain; charset=utf-8') => {
      metrics.socketRefused(metric);
      const headers = ['Connection: close', `Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body)}`];
      // Node leaves an upgrade's socket half-open after `end`, its timeouts gone: it would hold its slot.
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.join('\r\n')}\r\n\r\n${body}`);
    };
    // Node hands every Upgrade to this listener, none to the request handler: another protocol (h2c,
    // say) is told what to do, in the answers' shape, where HTTP would let the server ignore it.
    if (request.headers.upgrade?.trim().toLowerCase() !== 'websocket') {
      const refusal = requestError('This server upgrades connections to WebSocket only: send the request without Upgrade.');
      return refuse(400, 'bad_request', JSON.stringify(refusal), 'application/json');
    }
    if (request.url?.split('?')[0] !== GRAPHQL_PATH) return refuse(404, 'path');
    if (closing) return refuse(503, 'shutting_down');
    if (!originAllowed(cors, request.headers.origin, request.headers.host)) return refuse(403, 'origin');
    // Before the handshake, so a socket past a cap never holds a slot; nor one of the probes' reserve.
    if (stats.sockets >= limits.maxSockets || isProbeOnlyConnection(request.socket)) {
      return refuse(503, 'socket_limit');
    }
    const address = addressKey(request.socket.remoteAddress ?? '');
    if (byAddress.full(address)) return refuse(429, 'address_limit');
    // ws completes the handshake synchronously (no verifyClient): the counts above stay exact.
    wss.handleUpgrade(request, socket, head, (ws) => opened(ws, request, address));
  };

  function opened(ws: WebSocket, request: IncomingMessage, address: string): void {
    const id = nextConnectionId++;
    const connection: Connection = { id, socket: ws, request, address, operations: new Map(), muted: new Set(), open: 0, messageBytes: 0, messageValues: 0, pendingBytes: 0 };
    stats.sockets += 1;
    byAddress.add(address, 1);
    metrics.socketOpened();
    startIdle(connection);
    ws.on('error', () => closeSocket(ws, CloseCode.InternalServerError, 'Socket error'));
    // A socket that has not answered the previous ping by the next is dropped; not one whose messages wait
    // for their turns: it is not read meanwhile (its pong neither), and it is there, it sent them. It is
    // pinged afresh once read again.
    let answered = true;
    ws.on('pong', () => (answered = true));
    const ping = () => {
      if (ws.isPaused) {
        answered = true;
        return;
      }
      if (!answered) return ws.terminate();
      answered = false;
      ws.ping();
    };
    const pings = limits.keepAliveMs > 0 ? setInterval(ping, limits.keepAliveMs).unref() : undefined;
    // Once graphql-ws has acknowledged the socket's connection_init, each message is handed to it in order,
    // in its caller's turn (requestPlace), as an HTTP request's document is parsed: not in the callback
    // that read it, and one at a time per caller however many sockets it has. Before, graphql-ws refuses
    // anything but the connection_init at once, as the protocol asks, and parses no document. While
    // messages wait the socket is not read (what ws has read still comes: one read's frames, bounded).
    const onMessage = (handle: (text: string) => Promise<void>) => {
      const failed = (error: unknown) => {
        logger.error({ connection: connection.id, err: error }, 'WebSocket message handling failed');
        closeSocket(ws, CloseCode.InternalServerError, 'Internal server error');
      };
      const hand = (data: Buffer) => {
        connection.messageBytes = data.length;
        connection.messageValues = jsonValues(data);
        const text = data.toString('utf8');
        handle(text).catch((error: unknown) => {
          // graphql-ws parses the server's own message types, then throws on them: the client's mistake.
          if (isServerMessage(text)) return closeSocket(ws, CloseCode.BadRequest, 'Invalid message received');
          failed(error);
        });
      };
      const waiting: Buffer[] = [];
      const takeTurns = async () => {
        try {
          while (waiting.length > 0) {
            await nextTurn(placeOf(connection));
            if (ws.readyState !== ws.OPEN) break;
            hand(waiting.shift()!);
          }
        } finally {
          waiting.length = 0;
          ws.resume();
        }
      };
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // The protocol is text: a binary frame is refused as graphql-ws refuses any bad message.
        if (isBinary) return closeSocket(ws, CloseCode.BadRequest, 'Invalid message received');
        if (waiting.length === 0 && connection.graphqlWs?.acknowledged !== true) return hand(data);
        if (waiting.length >= MAX_MESSAGES_WAITING) return closeSocket(ws, TRY_AGAIN_LATER, `More than ${MAX_MESSAGES_WAITING} messages at once: send fewer at a time.`);
        waiting.push(data);
        if (waiting.length > 1) return;
        ws.pause();
        takeTurns().catch(failed);
      });
    };
    const send = (data: string) => sendFrame(connection, data);
    const close = (code?: number, reason?: string) => closeSocket(ws, code ?? 1000, reason);
    const closed = protocol.opened({ protocol: ws.protocol, send, close, onMessage }, connection);
    ws.once('close', (code, reason) => {
      clearInterval(pings);
      clearTimeout(connection.idle);
      stats.sockets -= 1;
      byAddress.add(address, -1);
      metrics.socketClosed();
      void closed(code, reason.toString('utf8'));
    });
  }

  // A live operation's result waits for the kernel (its results conflate meanwhile); any other frame
  // resolves at once: refused or ended operations are not bounded in number, nor may their sends wait.
  function sendFrame(connection: Connection, data: string): Promise<void> {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN) return Promise.resolve();
    if (connection.muted.size > 0 && connection.muted.delete(completeFrameId(data) ?? '')) return Promise.resolve();
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

  function bound(connection: Connection): void {
    const ws = connection.socket;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + connection.pendingBytes <= limits.maxBufferedBytes) return;
    metrics.socketRefused('slow_consumer');
    closeSocket(ws, 1008, 'Slow consumer: too much waiting to be sent');
    // What waits is dropped now, and no further result waits: the close may take its handshake's time.
    for (const operation of connection.operations.values()) void operation.stream.return();
  }

  async function close(): Promise<void> {
    closing = true;
    const gone = [...wss.clients].map((socket) => {
      const closed = new Promise((resolve) => socket.once('close', resolve));
      closeSocket(socket, 1001, 'Going away');
      return closed;
    });
    await Promise.race([Promise.all(gone), sleep(config.http.shutdownTimeoutMs, undefined, { ref: false })]);
    for (const socket of wss.clients) socket.terminate();
    httpServer.off('upgrade', onUpgrade);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    watches.close();
  }

  httpServer.on('upgrade', onUpgrade);
  const drainPlugin = { serverWillStart: async () => ({ drainServer: close }) };
  return { server: stats as Readonly<typeof stats>, drainPlugin };
}

/** The bytes one subscription's unit holds: its document (as the document store charges it) and its message. */
export const SUBSCRIPTION_UNIT_BYTES = 16 * 1024;
/** A live subscription's message, held as text, as parsed values, and as its variables' group key. */
const MESSAGE_COPIES = 3;
/** What V8 holds for one parsed JSON object, array or member beyond its text (`{}` is 2 bytes of text). */
const BYTES_PER_PARSED_VALUE = 64;

/** The objects, arrays and members of a JSON text (every `{`, `[` and `,`, inside strings too: more, never less). */
function jsonValues(data: Buffer): number {
  let count = 0;
  for (let i = 0; i < data.length; i += 1) {
    const byte = data[i];
    if (byte === 0x7b || byte === 0x5b || byte === 0x2c) count += 1;
  }
  return count;
}

/** RFC 6455's "Try Again Later": the server holds as much of this as it may give the caller. */
const TRY_AGAIN_LATER = 1013;

/** A socket's messages waiting for their turns, at most: what one read of small frames can hold is far
 * more, and no client sends as many at once. */
const MAX_MESSAGES_WAITING = 1024;

/** The sockets waiting for the upstream's word on their credentials: a share of their own. */
const ASKING = 'asking';
const STRANGERS_FULL = 'Credentials the gateway does not know yet hold all the sockets they may';

/** The identity headers of `connection_init` (top-level or under `headers`, any case), then of the upgrade. */
function connectionHeaders(params: Record<string, unknown> | undefined, upgrade: IncomingHttpHeaders) {
  const given = new Map<string, string>();
  const nested = params?.headers;
  // Top-level keys win: they are what the gateway documents.
  for (const source of [typeof nested === 'object' && !Array.isArray(nested) ? nested : null, params]) {
    for (const [key, value] of Object.entries(source ?? {})) {
      const name = key.toLowerCase();
      if (typeof value === 'string' && IDENTITY_HEADERS.some((known) => known === name)) given.set(name, value);
    }
  }
  return (name: string) => {
    const header = given.get(name) ?? upgrade[name];
    return Array.isArray(header) ? header[0] : header;
  };
}

// CORS does not apply to WebSockets (cross-site WebSocket hijacking): CORS's origins and our own host only.
// A client without Origin is no browser: it holds its own token, nothing ambient to abuse.
function originAllowed(policy: CorsPolicy, origin?: string, host?: string): boolean {
  if (origin === undefined || originAllowedBy(policy, origin)) return true;
  if (host === undefined || !URL.canParse(origin)) return false;
  const url = new URL(origin);
  // `http(s)://<host>` where `<host>` is the Host header, exactly (port included).
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  return web && url.host === host.toLowerCase() && url.origin === origin.toLowerCase();
}

/** Closes once, with the reason cut to the protocol's 123 bytes; a peer that does not answer is dropped. */
function closeSocket(ws: WebSocket, code: number, reason = ''): void {
  if (ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED) return;
  const cut = Buffer.from(reason).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '');
  ws.close(code, Buffer.byteLength(reason) <= 123 ? reason : `${cut}…`);
  setTimeout(() => ws.terminate(), 1000).unref();
}

/** The id of a result frame (graphql-ws writes `{"id":<id>,"type":"next",…}`), undefined for any other. */
const NEXT_FRAME = /^\{"id":("(?:[^"\\]|\\.)*"),"type":"next"/;

const COMPLETE_FRAME = /^\{"id":("(?:[^"\\]|\\.)*"),"type":"complete"\}$/;

export const nextFrameId = (data: string): string | undefined => frameId(NEXT_FRAME, data);
const completeFrameId = (data: string): string | undefined => frameId(COMPLETE_FRAME, data);

function frameId(frame: RegExp, data: string): string | undefined {
  const quoted = frame.exec(data)?.[1];
  return quoted === undefined ? undefined : (JSON.parse(quoted) as string);
}

const SERVER_MESSAGES: ReadonlySet<unknown> = new Set([MessageType.ConnectionAck, MessageType.Next, MessageType.Error]);

/** A message of a type only the server sends (graphql-ws has parsed it once already: this is the refusal's path). */
function isServerMessage(text: string): boolean {
  try {
    return SERVER_MESSAGES.has((JSON.parse(text) as { type?: unknown }).type);
  } catch {
    return false;
  }
}
