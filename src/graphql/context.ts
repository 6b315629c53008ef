import type { GatewayError } from '../errors/GatewayError';
import type DataLoader from 'dataloader';
import { createLoaders, type BatchObserver, type Loaders } from '../loaders/createLoaders';
import { forRequest, type SharedUnknownValueReporter, type UnknownValueReporter } from '../mapping/unknownValues';
import { fanOutEvents } from '../observability/events';
import { OperationFacts } from '../observability/OperationFacts';
import type { RequestScope } from '../observability/requestScope';
import { CseApi } from '../upstream/CseApi';
import { ConcurrencyLimit } from '../upstream/ConcurrencyLimit';
import type { CseHttpClient, UpstreamRequestContext } from '../upstream/CseHttpClient';
import type { Credentials } from '../upstream/credentials';
import type { ConnectionModel } from '../pagination/types';
import type { CacheTtls } from '../cache/freshness';
import type { CseEngine, CseJob } from '../upstream/types';
import type { LiveJobs } from '../subscriptions/LiveJobs';
import { CachePolicy } from '../cache/CachePolicy';
import { createEngineReferenceLoader } from './federation/engineReferences';
import { OperationBudget, type OperationBudgetLimits } from './execution/operationBudget';

/** What every resolver of one operation shares. Built per request by `createContext`. */
export interface GatewayContext {
  /** The HTTP request's id and telemetry (undefined when served outside the HTTP server). */
  readonly scope: RequestScope | undefined;
  readonly credentials: Credentials;
  readonly loaders: Loaders;
  /** Federation `_entities`: Engine references, read from list pages when that is cheaper. */
  readonly references: { readonly engine: DataLoader<string, CseEngine | null> };
  readonly paging: PagingLimits;
  readonly reportUnknown: UnknownValueReporter;
  /** What the operation did so far (its scope's, or its own outside the HTTP server). */
  readonly facts: OperationFacts;
  /** Job connections shared between `Query.engine` and `Engine.jobs` (see `sharedJobConnection`). */
  readonly jobConnections: Map<string, Promise<ConnectionModel<CseJob>>>;
  /** The shortest TTL the fields that fetched hinted: the response's `Cache-Control` (see cacheHints). */
  readonly cachePolicy: CachePolicy;
  /** The source of subscription events (see subscriptions/LiveJobs); undefined where none are served. */
  readonly live: LiveJobs | undefined;
  /** What the operation may still gather and send (upstream bytes, items per list). */
  readonly budget: OperationBudget;
  /**
   * Why the caller's credentials were refused (no token, a malformed header), when that refusal
   * waits for the operation: a schema-only one (introspection) needs none; any other is refused
   * with it before it runs (see schemaOnlyPlugin). Undefined when the credentials are the caller's.
   */
  readonly credentialRefusal?: GatewayError;
}

export interface PagingLimits {
  readonly maxPageSize: number;
  readonly defaultPageSize: number;
}

/** The long-lived pieces a context is made from (one set per process). */
export interface ContextServices {
  readonly http: CseHttpClient;
  readonly paging: PagingLimits;
  readonly pageBase: 0 | 1;
  readonly requestConcurrency: number;
  readonly reportUnknown: SharedUnknownValueReporter;
  /** More Engine references than this in one `_entities` call are looked up in list pages. */
  readonly engineListThreshold: number;
  /** Engine-list pages one `_entities` call reads at most. */
  readonly engineListMaxPages: number;
  /** Told the size of every DataLoader batch (metrics). */
  readonly observeBatch?: BatchObserver;
  /** The TTLs the operation's cache hints are made of. */
  readonly cacheTtls: CacheTtls;
  /** The process's live jobs, the source of subscription events. */
  readonly live?: LiveJobs;
  /** What one operation may gather and send (OPERATION_MAX_UPSTREAM_BYTES, MAX_LIST_ITEMS). */
  readonly budget: OperationBudgetLimits;
}

/**
 * Everything caller-specific is made here, per request: the credentials, a concurrency bound,
 * and fresh loaders, so no answer can leak from one caller (or one operation) to another.
 */
export function createContext(
  services: ContextServices,
  request: UpstreamRequestContext,
  scope?: RequestScope,
  credentialRefusal?: GatewayError,
): GatewayContext {
  const facts = scope?.facts ?? new OperationFacts();
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
    scope,
    credentials: request.credentials,
    loaders,
    references: {
      engine: createEngineReferenceLoader(loaders, {
        listThreshold: services.engineListThreshold,
        pageSize: services.paging.maxPageSize,
        maxListPages: services.engineListMaxPages,
      }),
    },
    paging: services.paging,
    reportUnknown: forRequest(services.reportUnknown, scope?.requestId),
    facts,
    jobConnections: new Map(),
    cachePolicy,
    live: services.live,
    budget,
    credentialRefusal,
  };
}

/** A limit made on the first call: an operation answered without upstream calls never needs one. */
function lazyLimit(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let limit: ConcurrencyLimit | undefined;
  return (fn) => (limit ??= new ConcurrencyLimit(concurrency)).run(fn);
}
