import { isSpanContextValid, SpanStatusCode, type Span } from '@opentelemetry/api';
import { RequestErrorCode } from '../errors/codes';
import { fanOutEvents, type UpstreamEvents } from './events';
import { boundString, jsonString, OPERATION_NAME_MAX_CHARS, writeInfoLine, type Logger } from './logger';
import type { GatewayMetrics, OperationOutcome } from './metrics';
import { OperationFacts } from './OperationFacts';
import { parseTraceparent } from './traceHeaders';
import { startOperationTrace } from './tracing';

/** One request's span, duration and upstream calls (debug); `finish` writes its log line and metrics. */
export class OperationTelemetry {
  readonly facts = new OperationFacts();
  /** The facts' counts, and one debug line per upstream attempt. */
  readonly events: UpstreamEvents = this.facts.events;
  readonly propagate: Readonly<Record<string, string>>;
  private readonly started = performance.now();
  private readonly span: Span | undefined;
  private finished = false;

  constructor(
    private readonly requestId: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    ({ span: this.span, propagate: this.propagate } = startOperationTrace(headers));
    // Upstream calls are many: nothing is made for their debug lines unless those are written.
    if (!logger.isLevelEnabled('debug')) return;
    const attempt: UpstreamEvents['attempt'] = (event) =>
      logger.debug({ requestId, upstream: { ...event, durationMs: round(event.durationMs) } }, 'upstream call');
    this.events = fanOutEvents(this.facts.events, { attempt });
  }

  /** Once, when the response has been handed to the socket (or the request failed or was aborted).
   * `unsent`: the connection closed before the answer began; its errors (a cancelled call reads as a
   * timeout) reached nobody, and are not counted as the gateway's. */
  finish(end: { httpStatus: number; aborted: boolean; unsent?: boolean }): void {
    if (this.finished) return;
    this.finished = true;
    const { facts } = this;
    const durationMs = performance.now() - this.started;
    this.nameSpan();
    // Answered with another's answer: nothing ran, so its line is short.
    const reused = end.aborted ? undefined : facts.reused;
    // A 400, 413 or 415 with no operation nor error seen: refused by Apollo (CSRF, not GraphQL) or the
    // HTTP server (not JSON, too large, compressed), each BAD_REQUEST; Apollo's hook for those gets the error alone.
    if (reused === undefined && !facts.resolved && facts.errorCount === 0 && REFUSED_REQUEST.has(end.httpStatus)) {
      facts.recordErrors([{ extensions: { code: RequestErrorCode.BAD_REQUEST } }]);
    }
    const outcome = reused ?? operationOutcome({ ...end, errorCount: facts.errorCount, hasData: facts.hasData });
    const errorCodes = reused === undefined ? (end.unsent === true ? [] : facts.errorCodes) : undefined;
    this.metrics.observeOperation(facts, outcome, durationMs, errorCodes);
    if (this.logger.isLevelEnabled('info')) this.writeLine(outcome, end.httpStatus, round(durationMs), errorCodes);
    if (errorCodes !== undefined && this.span !== undefined) {
      this.span.setAttribute('cse.upstream_calls', facts.upstreamCalls);
      // Partial data counts as failed here: a trace is looked at to find what went wrong.
      if (outcome !== 'success') {
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodes.join(',') || outcome });
      }
    }
    this.span?.end();
  }

  /** As JSON, not through pino's walk of an object (it cost more than the rest of a cache hit). */
  private writeLine(outcome: OperationOutcome, httpStatus: number, durationMs: number, errorCodes?: string[]): void {
    const { facts } = this;
    const name = facts.operationName === null ? 'null' : jsonString(boundString(facts.operationName, OPERATION_NAME_MAX_CHARS));
    let line = `,"requestId":${jsonString(boundString(this.requestId))},"operationName":${name}`;
    if (errorCodes !== undefined) {
      const type = facts.operationType;
      line += `,"operationType":${type === null ? 'null' : jsonString(type)}`;
    }
    line += `,"durationMs":${durationMs}`;
    if (errorCodes !== undefined) {
      line += `,"upstreamCalls":${facts.upstreamCalls},"cacheHits":${facts.upstreamCacheHits}`;
      line += `,"errorCodes":${JSON.stringify(errorCodes)}`;
    }
    line += `,"outcome":"${outcome}","httpStatus":${httpStatus}`;
    const trace = this.traceIds();
    if (trace !== undefined) line += `,"trace_id":"${trace.traceId}","span_id":"${trace.spanId}"`;
    writeInfoLine(this.logger, line, 'graphql operation');
  }

  /** For `trace_id` and `span_id` (OpenTelemetry's log names): the operation's span's, else the caller's. */
  private traceIds(): { traceId: string; spanId: string } | undefined {
    const context = this.span?.spanContext();
    if (context !== undefined && isSpanContextValid(context)) return context;
    const traceparent = this.propagate.traceparent;
    const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
    return parent === undefined ? undefined : { traceId: parent.traceId, spanId: parent.parentId };
  }

  /** `query Dashboard`, or after the answer it reused. */
  private nameSpan(): void {
    if (this.span === undefined) return;
    const { operationName: given, operationType: type, reused } = this.facts;
    const name = given === null ? null : boundString(given, OPERATION_NAME_MAX_CHARS);
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

/** The statuses of a request refused as a whole, `BAD_REQUEST` (docs/errors.md). */
const REFUSED_REQUEST = new Set([400, 413, 415]);

// partial: data with field errors. error: no data, or an HTTP error without a GraphQL error (413, bad
// JSON). aborted: the response never reached the caller (it left, or shutdown cut it off).
export function operationOutcome(
  end: { aborted: boolean; errorCount: number; hasData: boolean; httpStatus: number },
): OperationOutcome {
  if (end.aborted) return 'aborted';
  if (end.errorCount > 0) return end.hasData ? 'partial' : 'error';
  return end.httpStatus >= 400 ? 'error' : 'success';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
