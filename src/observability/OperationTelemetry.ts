import { isSpanContextValid, SpanStatusCode, type Span } from '@opentelemetry/api';
import { RequestErrorCode } from '../errors/codes';
import { fanOutEvents, type UpstreamEvents } from './events';
import type { Logger } from './logger';
import type { GatewayMetrics, OperationOutcome } from './metrics';
import type { OperationFacts } from './OperationFacts';
import { parseTraceparent } from './traceHeaders';
import { startOperationTrace } from './tracing';

export interface OperationTelemetryOptions {
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** What the request did: read when the exchange ends. */
  readonly facts: OperationFacts;
}

/**
 * What is observed of one GraphQL request, from the first byte to the last: its trace span, its
 * duration, the upstream calls at debug level, and — from the request's {@link OperationFacts} —
 * the one log line per operation and the operation metrics, written by `finish`.
 */
export class OperationTelemetry {
  readonly requestId: string;
  /** The operation's event sink: its facts' counts, and one debug line per upstream attempt. */
  readonly events: UpstreamEvents;
  /** Trace headers for every upstream call of the operation. */
  readonly propagate: Readonly<Record<string, string>>;

  private readonly started = performance.now();
  private readonly logger: Logger;
  private readonly metrics: GatewayMetrics;
  private readonly facts: OperationFacts;
  private readonly span: Span | undefined;
  private finished = false;

  constructor(options: OperationTelemetryOptions) {
    ({ requestId: this.requestId, logger: this.logger, metrics: this.metrics, facts: this.facts } = options);
    ({ span: this.span, propagate: this.propagate } = startOperationTrace(options.headers));
    const logger = this.logger;
    this.events = options.facts.events;
    // Nothing is made for debug lines unless they are written: upstream calls are many.
    if (!logger.isLevelEnabled('debug')) return;
    const debug: UpstreamEvents = {
      attempt: (event) => {
        const upstream = { ...event, durationMs: round(event.durationMs) };
        logger.debug({ requestId: this.requestId, upstream }, 'upstream call');
      },
    };
    this.events = fanOutEvents(options.facts.events, debug);
  }

  /** Once, when the response has been handed to the socket (or the request failed or was aborted). */
  finish(end: { httpStatus: number; aborted: boolean }): void {
    if (this.finished) return;
    this.finished = true;
    const { facts, requestId } = this;
    const { httpStatus } = end;
    const durationMs = performance.now() - this.started;
    this.nameSpan();
    // A request answered with another's answer: nothing ran, so its line is short.
    const reused = end.aborted ? undefined : facts.reused;
    // A 400 before any operation started, with no error seen: a request Apollo (CSRF prevention,
    // a body that is no GraphQL request) or the HTTP server (a body that is not JSON) refused as
    // BAD_REQUEST. Apollo's hook for those (invalidRequestWasReceived) gets the error alone.
    if (reused === undefined && !facts.resolved && facts.errorCount === 0 && httpStatus === 400) {
      facts.recordErrors([{ extensions: { code: RequestErrorCode.BAD_REQUEST } }]);
    }
    const outcome = reused ?? operationOutcome({ ...end, errorCount: facts.errorCount, hasData: facts.hasData });
    const errorCodes = reused === undefined ? facts.errorCodes : undefined;
    const { operationName, resolved, nameVouched } = facts;
    this.metrics.observeOperation({ name: operationName, resolved, nameVouched, outcome, durationMs, errorCodes });
    if (this.logger.isLevelEnabled('info')) {
      const line =
        errorCodes === undefined
          ? { requestId, operationName, durationMs: round(durationMs), outcome, httpStatus }
          : {
              requestId,
              operationName,
              operationType: facts.operationType,
              durationMs: round(durationMs),
              upstreamCalls: facts.upstreamCalls,
              cacheHits: facts.upstreamCacheHits,
              errorCodes,
              outcome,
              httpStatus,
            };
      const trace = this.traceFields();
      this.logger.info(trace === undefined ? line : { ...line, ...trace }, 'graphql operation');
    }
    if (errorCodes !== undefined && this.span !== undefined) {
      this.span.setAttribute('cse.upstream_calls', facts.upstreamCalls);
      // Partial data counts as failed here: a trace is looked at to find what went wrong.
      if (outcome !== 'success') {
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodes.join(',') || outcome });
      }
    }
    this.span?.end();
  }

  /**
   * `trace_id` and `span_id` (the names OpenTelemetry's log data model and log pipelines use)
   * when a trace is active: the operation's span with an SDK, else the caller's `traceparent`.
   */
  private traceFields(): { trace_id: string; span_id: string } | undefined {
    const context = this.span?.spanContext();
    if (context !== undefined && isSpanContextValid(context)) return { trace_id: context.traceId, span_id: context.spanId };
    // No SDK: no span of our own, but the caller's trace, which the upstream calls carry on.
    const traceparent = this.propagate.traceparent;
    const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
    return parent === undefined ? undefined : { trace_id: parent.traceId, span_id: parent.parentId };
  }

  /** The span is named once the operation is known: `query Dashboard`, or after the answer it reused. */
  private nameSpan(): void {
    const { operationName: name, operationType: type, reused } = this.facts;
    if (this.span === undefined) return;
    if (reused !== undefined) {
      this.span.setAttribute(reused === 'cached' ? 'cse.cached' : 'cse.coalesced', true);
      this.span.updateName(`query ${name ?? '(anonymous)'}`);
      return;
    }
    if (!this.facts.resolved) return;
    this.span.updateName(`${type ?? 'operation'} ${name ?? '(anonymous)'}`);
    if (type !== null) this.span.setAttribute('graphql.operation.type', type);
    if (name !== null) this.span.setAttribute('graphql.operation.name', name);
  }
}

/**
 * success: no error. partial: data with field errors. error: no data (a refused or invalid
 * request, or every field failed), or an HTTP error without a GraphQL error (413, bad JSON).
 * aborted: the response never reached the caller (it went away, or shutdown cut the connection).
 */
export function operationOutcome(end: {
  aborted: boolean;
  errorCount: number;
  hasData: boolean;
  httpStatus: number;
}): OperationOutcome {
  if (end.aborted) return 'aborted';
  if (end.errorCount > 0) return end.hasData ? 'partial' : 'error';
  return end.httpStatus >= 400 ? 'error' : 'success';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
