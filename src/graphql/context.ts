import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayError } from '../errors/GatewayError';
import type DataLoader from 'dataloader';
import { createLoaders, type BatchObserver, type Loaders } from '../loaders/createLoaders';
import type { ProcessUnknownValueReporter, UnknownValueReporter } from '../mapping/unknownValues';
import { fanOutEvents } from '../observability/events';
import { OperationFacts } from '../observability/OperationFacts';
import type { RequestRecord } from '../observability/requestRecord';
import { CseApi } from '../upstream/CseApi';
import { InFlightLimiter } from '../upstream/resilience/InFlightLimiter';
import type { CseHttpClient } from '../upstream/CseHttpClient';
import type { UpstreamRequestContext } from '../upstream/stages/types';
import type { Credentials } from '../upstream/credentials';
import type { ConnectionModel } from '../pagination/resolveConnection';
import type { CacheTtls } from '../cache/freshness';
import type { CseEngine, CseJob } from '../upstream/types';
import { CachePolicy } from '../cache/CachePolicy';
import { createEngineReferenceLoader } from './federation/engineReferences';
import { OperationBudget } from './execution/operationBudget';
import type { JobWatches } from './models';

/** What every resolver of one operation shares, built per request by `createContext`. */
export interface GatewayContext {
  /** Undefined outside the HTTP server. */
  readonly record: RequestRecord | undefined;
  readonly credentials: Credentials;
  readonly loaders: Loaders;
  /** Federation `_entities`: Engine references (see federation/engineReferences). */
  readonly references: { readonly engine: DataLoader<string, CseEngine | null> };
  readonly paging: PagingLimits;
  readonly reportUnknown: UnknownValueReporter;
  readonly facts: OperationFacts;
  /** See `jobConnectionOnce`. */
  readonly jobConnections: Map<string, Promise<ConnectionModel<CseJob>>>;
  readonly cachePolicy: CachePolicy;
  /** The source of subscription events; undefined where none are served. */
  readonly watches: JobWatches | undefined;
  readonly budget: OperationBudget;
  /**
   * Why the caller's credentials were refused, when that waits for the operation: a schema-only
   * one needs none, any other is refused with it before it runs (see admissionPlugin).
   */
  readonly credentialRefusal?: GatewayError;
}

export type PagingLimits = GatewayConfig['upstream']['paging'];

/** The long-lived pieces a context is made from (one set per process). */
export interface ContextServices {
  readonly http: CseHttpClient;
  readonly paging: PagingLimits;
  readonly pageBase: 0 | 1;
  readonly requestConcurrency: number;
  readonly reportUnknown: ProcessUnknownValueReporter;
  readonly entities: GatewayConfig['limits']['entities'];
  readonly observeBatch?: BatchObserver;
  readonly cacheTtls: CacheTtls;
  readonly watches?: JobWatches;
  readonly budget: GatewayConfig['limits']['budget'];
}

/**
 * Everything caller-specific is made here, per request (credentials, a concurrency bound, fresh
 * loaders), so no answer can leak from one caller or operation to another.
 */
export function createContext(
  services: ContextServices,
  request: UpstreamRequestContext,
  record?: RequestRecord,
  credentialRefusal?: GatewayError,
): GatewayContext {
  const facts = record?.facts ?? new OperationFacts();
  const budget = new OperationBudget(services.budget);
  const cachePolicy = new CachePolicy(services.cacheTtls);
  const api = new CseApi({
    http: services.http,
    request: { ...request, events: fanOutEvents(request.events, cachePolicy.events) },
    limit: lazyLimit(services.requestConcurrency),
    pageBase: services.pageBase,
    onNotFound: () => facts.markNotFound(),
    budget,
  });
  const loaders = createLoaders(api, services.observeBatch);
  return {
    record,
    credentials: request.credentials,
    loaders,
    references: {
      engine: createEngineReferenceLoader(loaders, { ...services.entities, pageSize: services.paging.maxPageSize }),
    },
    paging: services.paging,
    reportUnknown: (kind, value) => services.reportUnknown(kind, value, record?.requestId),
    facts,
    jobConnections: new Map(),
    cachePolicy,
    watches: services.watches,
    budget,
    credentialRefusal,
  };
}

/** Made on the first call: an operation answered without upstream calls needs none. */
function lazyLimit(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let limit: InFlightLimiter | undefined;
  return (fn) => (limit ??= new InFlightLimiter({ inFlight: concurrency, queue: Infinity })).run(fn);
}
