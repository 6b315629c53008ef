import { isSpanContextValid, SpanStatusCode, type Span } from '@opentelemetry/api';
import { RequestErrorCode } from '../errors/codes';
import { fanOutEvents, type UpstreamEvents } from './events';
import type { Logger } from './logger';
import type { GatewayMetrics } from './metrics';
import type { OperationFacts } from './OperationFacts';
import { operationOutcome } from './operationOutcome';
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
  private readonly span: Span;
  private finished = false;

  constructor(options: OperationTelemetryOptions) {
    this.requestId = options.requestId;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.facts = options.facts;
    const { span, propagate } = startOperationTrace(options.headers);
    this.span = span;
    this.propagate = propagate;
    this.events = fanOutEvents(options.facts.events, {
      attempt: (event) => {
        this.logger.debug({ requestId: this.requestId, upstream: { ...event, durationMs: round(event.durationMs) } }, 'upstream call');
      },
    });
  }

  /** Once, when the response has been handed to the socket (or the request failed or was aborted). */
  finish(end: { httpStatus: number; aborted: boolean }): void {
    if (this.finished) return;
    this.finished = true;
    const facts = this.facts;
    const durationMs = performance.now() - this.started;
    this.nameSpan();
    if (facts.reused !== undefined && !end.aborted) {
      this.finishReused(facts.reused, end.httpStatus, durationMs);
      return;
    }
    // A 400 before any operation started, with no error seen: a request Apollo (CSRF prevention,
    // a body that is no GraphQL request) or the HTTP server (a body that is not JSON) refused as
    // BAD_REQUEST. Apollo's hook for those (invalidRequestWasReceived) gets the error alone, with
    // nothing that names the request, so the code is known from the status.
    if (!facts.resolved && facts.errorCount === 0 && end.httpStatus === 400) facts.recordErrors([{ extensions: { code: RequestErrorCode.BAD_REQUEST } }]);
    const outcome = operationOutcome({ ...end, errorCount: facts.errorCount, hasData: facts.hasData });
    const fields = {
      requestId: this.requestId,
      operationName: facts.operationName,
      operationType: facts.operationType,
      durationMs: round(durationMs),
      upstreamCalls: facts.upstreamCalls,
      cacheHits: facts.upstreamCacheHits,
      errorCodes: facts.errorCodes,
      outcome,
      httpStatus: end.httpStatus,
    };
    this.metrics.observeOperation({ name: facts.operationName, resolved: facts.resolved, nameVouched: facts.nameVouched, outcome, durationMs, errorCodes: fields.errorCodes });
    this.logger.info({ ...fields, ...this.traceFields() }, 'graphql operation');

    this.span.setAttribute('cse.upstream_calls', facts.upstreamCalls);
    // Partial data counts as failed here: a trace is looked at to find what went wrong.
    if (outcome !== 'success') {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: fields.errorCodes.join(',') || outcome });
    }
    this.span.end();
  }

  /**
   * `trace_id` and `span_id` (the names OpenTelemetry's log data model and log pipelines use)
   * when a trace is active: the operation's span with an SDK, else the caller's `traceparent`.
   */
  private traceFields(): { trace_id?: string; span_id?: string } {
    const context = this.span.spanContext();
    if (isSpanContextValid(context)) return { trace_id: context.traceId, span_id: context.spanId };
    // No SDK: no span of our own, but the caller's trace, which the upstream calls carry on.
    const parent = this.propagate.traceparent === undefined ? undefined : parseTraceparent(this.propagate.traceparent);
    return parent === undefined ? {} : { trace_id: parent.traceId, span_id: parent.parentId };
  }

  /** The span is named once the operation is known: `query Dashboard`, or after the answer it reused. */
  private nameSpan(): void {
    const { operationName: name, operationType: type, reused } = this.facts;
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

  /** A request answered with another's answer: nothing ran, so nothing else to say. */
  private finishReused(outcome: 'cached' | 'coalesced', httpStatus: number, durationMs: number): void {
    const fields = { requestId: this.requestId, operationName: this.facts.operationName, durationMs: round(durationMs), outcome, httpStatus };
    this.metrics.observeOperation({ name: this.facts.operationName, resolved: true, nameVouched: this.facts.nameVouched, outcome, durationMs });
    this.logger.info({ ...fields, ...this.traceFields() }, 'graphql operation');
    this.span.end();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
