import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin, isAdminPath, type AdminHooks } from './admin';
import { checkProject, checkToken } from './auth';
import { checkTickLiveOptions } from './controls';
import { Delays } from './delays';
import { CseCode, cseError } from './errors';
import { faultResponse, FaultBook, malformedResponse } from './faults';
import { handleApi } from './handlers';
import { headerValue, readBody, send, splitTarget } from './httpIo';
import { defaultTokens } from './identities';
import { checkLiveOptions, LiveMode } from './liveMode';
import { toCseJob } from './model';
import { CallLog, queryRecord } from './recorder';
import { emptyResponse, type SimResponse } from './response';
import { matchRoute, type RouteMatch } from './routes';
import { scenarioNamed } from './scenarios';
import { SimStore } from './store';
import type { LiveOptions, LiveStatus, RecordedCall, Simulator, SimulatorOptions, TickLiveOptions, TokenGrant } from './types';

const DEFAULT_MAX_LIMIT = 100;

/** Distinguishes the request ids of simulators started in the same process. */
let instances = 0;

interface Runtime {
  store: SimStore;
  faults: FaultBook;
  log: CallLog;
  delays: Delays;
  tokens: Readonly<Record<string, TokenGrant>>;
  maxLimit: number;
  latencyMs: number;
  nextRequestId: () => string;
  isClosed: () => boolean;
  adminHooks: AdminHooks;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const instance = ++instances;
  let requests = 0;
  let closing: Promise<void> | undefined;
  let live: LiveMode | undefined;
  const store = new SimStore();
  const faults = new FaultBook();
  const log = new CallLog();
  const runtime: Runtime = {
    store,
    faults,
    log,
    delays: new Delays(),
    tokens: { ...(options.tokens ?? defaultTokens()) },
    maxLimit: options.maxLimit ?? DEFAULT_MAX_LIMIT,
    latencyMs: checkLatency(options.latencyMs ?? 0),
    // 32 hex digits like the real header, but a counter: equal runs give equal ids.
    nextRequestId: () => instance.toString(16).padStart(8, '0') + (++requests).toString(16).padStart(24, '0'),
    isClosed: () => closing !== undefined,
    adminHooks: {
      calls: () => log.snapshot(),
      reset: () => resetAll(),
      faults,
      addJobs: (engineId, count, overrides) => store.addJobs(engineId, count, overrides),
      startJob: (engineId, options) => store.startJob(engineId, options),
      advanceJob: (engineId, jobId, options) => store.advanceJob(engineId, jobId, options),
      updateJob: (engineId, jobId, patch) => store.updateJob(engineId, jobId, patch),
      liveStatus: () => live?.status(),
      startLive: (liveOptions) => startLive(liveOptions),
      tickLive: (tickOptions) => tickLive(tickOptions),
      stopLive: () => stopLive(),
    },
  };
  const resetAll = (): void => {
    store.reset();
    faults.clear();
    log.clear();
    // Live mode starts over on the fresh seed rather than stopping: a demo survives a reset.
    live?.start();
  };
  const startLive = (liveOptions: LiveOptions = {}): LiveStatus => {
    if (closing !== undefined) throw new Error('startLive: the simulator is closed');
    // Checked before the running mode is touched: bad options leave it as it was.
    const checked = checkLiveOptions(liveOptions, store);
    live?.stop();
    live = new LiveMode(store, checked);
    live.start();
    return live.status();
  };
  const tickLive = (tickOptions?: TickLiveOptions): LiveStatus => {
    const ticks = checkTickLiveOptions(tickOptions, 'tickLive');
    if (live === undefined) throw new Error('tickLive: live mode is off');
    for (let i = 0; i < ticks; i++) live.tick();
    return live.status();
  };
  const stopLive = (): void => {
    live?.stop();
    live = undefined;
  };
  const liveAtStart = options.live === true ? {} : options.live === false ? undefined : options.live;
  // Checked before listening, so bad options fail start-up without a server to close.
  if (liveAtStart !== undefined) checkLiveOptions(liveAtStart, store);
  const scenario = options.scenario === undefined ? undefined : scenarioNamed(options.scenario);

  const server = createServer((req, res) => {
    handle(req, res, runtime).catch((error: unknown) => {
      // A simulator bug must surface as an answer the test can see, not as a hung request.
      console.error('[cse-simulator]', error);
      send(res, runtime.nextRequestId(), cseError(CseCode.INTERNAL, 'Internal simulator error', String(error), 500));
    });
  });
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  // Only once listening: a failed start leaves no timer behind.
  if (liveAtStart !== undefined) startLive(liveAtStart);
  for (const fault of scenario?.faults ?? []) faults.add(fault);

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      stopLive();
      runtime.delays.cancelAll();
      server.close(() => resolve());
      // Keep-alive sockets (and requests held by latency) would otherwise keep the server open.
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url: `http://${urlHost(address)}:${address.port}`,
    get calls() {
      return log.snapshot();
    },
    callCount: (filter) => log.count(filter),
    get peakInFlight() {
      return log.peakInFlight;
    },
    resetCalls: () => log.clear(),
    injectFault: (fault) => {
      const id = faults.add(fault);
      return () => {
        faults.remove(id);
      };
    },
    clearFaults: () => faults.clear(),
    addJobs: (engineId, count, overrides) => store.addJobs(engineId, count, overrides).map(toCseJob),
    startJob: (engineId, jobOptions) => toCseJob(store.startJob(engineId, jobOptions)),
    advanceJob: (engineId, jobId, advance) => toCseJob(store.advanceJob(engineId, jobId, advance)),
    updateJob: (engineId, jobId, patch) => toCseJob(store.updateJob(engineId, jobId, patch)),
    startLive: (liveOptions) => {
      startLive(liveOptions);
    },
    tickLive,
    stopLive,
    get live() {
      return live?.status();
    },
    reset: resetAll,
    close,
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, rt: Runtime): Promise<void> {
  const requestId = rt.nextRequestId();
  const method = req.method ?? 'GET';
  const { pathname, search } = splitTarget(req.url ?? '/');
  if (isAdminPath(pathname)) {
    const body = await readBody(req);
    send(res, requestId, handleAdmin(method, pathname, body, rt.adminHooks));
    return;
  }
  // The API is GET-only; drain any body so the connection can be reused.
  req.resume();
  const match = matchRoute(method, pathname);
  const query = queryRecord(new URLSearchParams(search));
  const call = rt.log.record(method, pathname, query, req.headers, match);
  rt.log.enter();
  try {
    await answerCall(req, res, rt, { match, query, requestId, call });
  } finally {
    rt.log.leave();
  }
}

async function answerCall(
  req: IncomingMessage,
  res: ServerResponse,
  rt: Runtime,
  { match, query, requestId, call }: { match: RouteMatch; query: Record<string, string>; requestId: string; call: RecordedCall },
): Promise<void> {
  if (rt.latencyMs > 0) {
    const completed = await rt.delays.sleep(rt.latencyMs);
    if (!completed || rt.isClosed()) return;
  }
  const fault = rt.faults.take({ route: match.route, engineId: match.engineId, jobId: match.jobId });

  if (fault?.latencyMs !== undefined && fault.latencyMs > 0) {
    const completed = await rt.delays.sleep(fault.latencyMs);
    if (!completed || rt.isClosed()) return;
  }
  if (fault?.destroy === true) {
    req.socket.destroy();
    return;
  }
  const answer = (): SimResponse => answerApi(req, match, query, requestId, rt);
  let response = fault?.malformed === true ? malformedResponse(answer()) : ((fault && faultResponse(fault, requestId)) ?? answer());
  if (fault?.headers) response = { ...response, headers: { ...response.headers, ...fault.headers } };
  call.status = response.status;
  call.answeredAt = Date.now();
  send(res, requestId, response);
}

/** Auth first, as the API gateway in front of CSE does, then the route, then the project. */
function answerApi(req: IncomingMessage, match: RouteMatch, query: Record<string, string>, requestId: string, rt: Runtime): SimResponse {
  const token = checkToken(headerValue(req.headers['x-auth-token']), rt.tokens, requestId);
  if (!token.ok) return token.response;
  const { projectId } = match;
  if (match.route === 'unknown' || projectId === undefined) return emptyResponse(404);
  const denied = checkProject(token.grant, projectId, requestId);
  if (denied) return denied;
  return handleApi({ ...match, projectId }, query, { store: rt.store, maxLimit: rt.maxLimit });
}

function checkLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latencyMs must be a non-negative number, got ${ms}`);
  return ms;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A wildcard bind is reached through loopback; IPv6 literals need brackets in a URL. */
function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
