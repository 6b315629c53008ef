import type { Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { ErrorCode, isPublicErrorCode, RequestErrorCode } from '../errors/codes';
import type { UpstreamEvents } from './events';
import type { Logger } from './logger';
import type { GatewayMetrics } from './metrics';
import { operationOutcome } from './operationOutcome';
import { startOperationTrace } from './tracing';

export interface OperationTelemetryOptions {
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

/** What the per-operation log line says; also returned by `finish` for tests. */
export interface OperationLogFields {
  readonly requestId: string;
  readonly operationName: string | null;
  readonly operationType: string | null;
  readonly durationMs: number;
  readonly upstreamCalls: number;
  readonly cacheHits: number;
  readonly errorCodes: string[];
  readonly outcome: ReturnType<typeof operationOutcome>;
  readonly httpStatus: number;
}

/**
 * The log line of a request answered with another's answer — stored (`cached`), or of an identical
 * request in flight at the same time (`coalesced`): nothing ran, so nothing else to say.
 */
export interface CachedOperationLogFields {
  readonly requestId: string;
  readonly operationName: string | null;
  readonly durationMs: number;
  readonly outcome: 'cached' | 'coalesced';
  readonly httpStatus: number;
}

/**
 * Everything observed about one GraphQL request, from the first byte to the last: its trace span,
 * the upstream calls and cache hits its resolvers caused (through `events`, the operation's own
 * sink), its name once Apollo resolved it, and its errors. `finish` writes the one log line per
 * operation and the operation metrics.
 */
export class OperationTelemetry {
  readonly requestId: string;
  /** The operation's event sink: counts for its log line, and upstream calls at debug level. */
  readonly events: UpstreamEvents;
  /** Trace headers for every upstream call of the operation. */
  readonly propagate: Readonly<Record<string, string>>;

  private readonly started = performance.now();
  private readonly logger: Logger;
  private readonly metrics: GatewayMetrics;
  private readonly span: Span;
  private name: string | null = null;
  private type: string | null = null;
  private resolved = false;
  private hasData = false;
  private errorCount = 0;
  private readonly errorCodes = new Set<string>();
  private upstreamCalls = 0;
  private cacheHits = 0;
  private finished = false;
  /** Set when the answer was another request's: no execution of its own. */
  private reused: 'cached' | 'coalesced' | undefined;

  constructor(options: OperationTelemetryOptions) {
    this.requestId = options.requestId;
    this.logger = options.logger;
    this.metrics = options.metrics;
    const { span, propagate } = startOperationTrace(options.headers);
    this.span = span;
    this.propagate = propagate;
    this.events = {
      attempt: (event) => {
        this.upstreamCalls += 1;
        this.logger.debug({ requestId: this.requestId, upstream: { ...event, durationMs: round(event.durationMs) } }, 'upstream call');
      },
      cache: (event) => {
        if (event.hit) this.cacheHits += 1;
      },
    };
  }

  /** Upstream answers this operation took from the upstream response cache so far. */
  get upstreamCacheHits(): number {
    return this.cacheHits;
  }

  /** The operation's name once Apollo resolved it (`null`: anonymous, or not resolved). */
  get operationName(): string | null {
    return this.name;
  }

  /**
   * The request was answered from the whole-response cache: Apollo never saw it, so the log line
   * is a short one, and the operation is counted under the name it had when its answer was stored.
   */
  servedFromCache(operationName: string | null): void {
    this.reuse('cached', operationName);
    this.span.setAttribute('cse.cached', true);
  }

  /**
   * The request was answered with the answer of an identical one that executed meanwhile (see
   * `inFlightRequests`): logged and counted like a cache hit, under the outcome `coalesced`.
   */
  servedShared(operationName: string | null): void {
    this.reuse('coalesced', operationName);
    this.span.setAttribute('cse.coalesced', true);
  }

  /** Whether any error was recorded so far (an answer with errors is never shared). */
  get hasErrors(): boolean {
    return this.errorCount > 0;
  }

  private reuse(how: 'cached' | 'coalesced', operationName: string | null): void {
    this.reused = how;
    this.name = operationName;
    this.resolved = true;
    this.span.updateName(`query ${operationName ?? '(anonymous)'}`);
  }

  /** Apollo parsed and validated the document and picked the operation. */
  operationResolved(name: string | null, type: string | null): void {
    this.name = name;
    this.type = type;
    this.resolved = true;
    this.span.updateName(`${type ?? 'operation'} ${name ?? '(anonymous)'}`);
    if (type !== null) this.span.setAttribute('graphql.operation.type', type);
    if (name !== null) this.span.setAttribute('graphql.operation.name', name);
  }

  /** Errors as graphql-js or Apollo raised them (before masking): only their codes are kept. */
  recordErrors(errors: readonly unknown[]): void {
    this.errorCount += errors.length;
    for (const error of errors) this.errorCodes.add(publicCode(error));
  }

  recordResponse(hasData: boolean): void {
    this.hasData = hasData;
  }

  /** Once, when the response has been handed to the socket (or the request failed or was aborted). */
  finish(end: { httpStatus: number; aborted: boolean }): OperationLogFields | CachedOperationLogFields | undefined {
    if (this.finished) return undefined;
    this.finished = true;
    const durationMs = performance.now() - this.started;
    if (this.reused !== undefined && !end.aborted) return this.finishReused(this.reused, end.httpStatus, durationMs);
    // A 400 before any operation started, with no error seen: a request Apollo (CSRF prevention,
    // a body that is no GraphQL request) or the HTTP server (a body that is not JSON) refused as
    // BAD_REQUEST. Apollo's hook for those (invalidRequestWasReceived) gets the error alone, with
    // nothing that names the request, so the code is known from the status.
    if (!this.resolved && this.errorCount === 0 && end.httpStatus === 400) this.recordErrors([{ extensions: { code: RequestErrorCode.BAD_REQUEST } }]);
    const outcome = operationOutcome({ ...end, errorCount: this.errorCount, hasData: this.hasData });
    const fields: OperationLogFields = {
      requestId: this.requestId,
      operationName: this.name,
      operationType: this.type,
      durationMs: round(durationMs),
      upstreamCalls: this.upstreamCalls,
      cacheHits: this.cacheHits,
      errorCodes: [...this.errorCodes],
      outcome,
      httpStatus: end.httpStatus,
    };
    this.metrics.observeOperation({ name: this.name, resolved: this.resolved, outcome, durationMs });
    this.logger.info(fields, 'graphql operation');

    this.span.setAttribute('cse.upstream_calls', this.upstreamCalls);
    // Partial data counts as failed here: a trace is looked at to find what went wrong.
    if (outcome !== 'success') {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: fields.errorCodes.join(',') || outcome });
    }
    this.span.end();
    return fields;
  }

  private finishReused(outcome: 'cached' | 'coalesced', httpStatus: number, durationMs: number): CachedOperationLogFields {
    const fields: CachedOperationLogFields = { requestId: this.requestId, operationName: this.name, durationMs: round(durationMs), outcome, httpStatus };
    this.metrics.observeOperation({ name: this.name, resolved: true, outcome, durationMs });
    this.logger.info(fields, 'graphql operation');
    this.span.end();
    return fields;
  }
}

function publicCode(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  // Anything without a public code is masked as INTERNAL_SERVER_ERROR in the response: say the same.
  return isPublicErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
