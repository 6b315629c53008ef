import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayError } from '../errors/GatewayError';
import type DataLoader from 'dataloader';
import { createLoaders, type BatchObserver, type Loaders } from '../loaders/createLoaders';
import type { UnknownValueReporters, UnknownValueReporter } from '../mapping/unknownValues';
import { OperationFacts } from '../observability/OperationFacts';
import type { RequestRecord } from '../observability/requestRecord';
import { CseApi } from '../upstream/CseApi';
import { InFlightLimiter } from '../upstream/resilience/InFlightLimiter';
import type { CseHttpClient } from '../upstream/CseHttpClient';
import type { UpstreamRequestContext } from '../upstream/stages/types';
import type { Credentials } from '../upstream/credentials';
import type { ConnectionModel } from '../pagination/resolveConnection';
import type { CseEngine, CseJob } from '../upstream/types';
import { CachePolicy } from '../cache/CachePolicy';
import { callerDigest } from '../cache/scopeKey';
import { createEngineReferenceLoader } from './federation/engineReferences';
import { OperationBudget } from './execution/operationBudget';
import type { AnswersBeingMade } from './execution/answersBeingMade';
import type { JobWatches } from './models';

export interface GatewayContext {
  /** Undefined outside the HTTP server. */
  readonly record: RequestRecord | undefined;
  readonly credentials: Credentials;
  /** The client's address (addressKey), where the strangers' share of upstream calls counts its calls. */
  readonly address?: string;
  readonly loaders: Loaders;
  readonly references: { readonly engine: DataLoader<string, CseEngine | null> };
  readonly paging: GatewayConfig['upstream']['paging'];
  readonly reportUnknown: UnknownValueReporter;
  readonly facts: OperationFacts;
  readonly jobConnections: Map<string, Promise<ConnectionModel<CseJob>>>;
  readonly cachePolicy: CachePolicy;
  /** Undefined where no subscriptions are served. */
  readonly watches: JobWatches | undefined;
  readonly budget: OperationBudget;
  /** A refusal that waits for the operation: a schema-only one needs no credentials (admissionPlugin). */
  readonly credentialRefusal?: GatewayError;
}

/** One set per process. */
export interface ContextServices {
  readonly config: Pick<GatewayConfig, 'upstream' | 'limits' | 'cache'>;
  readonly http: CseHttpClient;
  readonly reportUnknown: UnknownValueReporters;
  readonly observeBatch?: BatchObserver;
  readonly watches?: JobWatches;
  /** Where an operation's answer counts while it is made, per caller. */
  readonly answers?: AnswersBeingMade;
}

/** Everything caller-specific is made per request, so no answer can leak to another caller or operation. */
export function createContext(
  services: ContextServices,
  request: UpstreamRequestContext,
  record?: RequestRecord,
  credentialRefusal?: GatewayError,
): GatewayContext {
  const { upstream, limits, cache } = services.config;
  const telemetry = record?.telemetry;
  const facts = telemetry?.facts ?? new OperationFacts();
  // In bytes, a token the upstream has not accepted yet counts as itself (it makes no large answer before it
  // is); its slot it takes among all such tokens', by client address.
  const caller = callerDigest(request.credentials);
  const answer = services.answers?.answerOf(caller, () => services.http.isStranger(request.credentials), request.address);
  const budget = new OperationBudget(limits.budget, caller, answer, request);
  const cachePolicy = new CachePolicy(cache.ttls);
  let limiter: InFlightLimiter | undefined;
  const inFlight = upstream.requestConcurrency;
  const api = new CseApi({
    http: services.http,
    // Over HTTP the operation's telemetry already feeds these facts.
    request: telemetry === undefined ? { ...request, events: facts.events } : request,
    // Made on the first call: an operation answered without upstream calls needs none.
    limit: (fn) => (limiter ??= new InFlightLimiter({ inFlight, queue: Infinity })).run(fn),
    pageBase: upstream.pageBase,
    timeFormat: upstream.timeFormat,
    onNotFound: () => (facts.notFound = true),
    budget,
  });
  const loaders = createLoaders(api, services.observeBatch);
  const entities = { ...limits.entities, pageSize: upstream.paging.maxPageSize };
  return {
    record,
    credentials: request.credentials,
    address: request.address,
    loaders,
    references: { engine: createEngineReferenceLoader(loaders, entities) },
    paging: upstream.paging,
    reportUnknown: services.reportUnknown(record?.requestId),
    facts,
    jobConnections: new Map(),
    cachePolicy,
    watches: services.watches,
    budget,
    credentialRefusal,
  };
}
