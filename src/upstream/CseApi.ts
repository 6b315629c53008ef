import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { registeredTracer } from '../observability/tracing';
import { pageOffset, type PageCall } from '../pagination/pages';
import type { ListPage } from '../pagination/resolveConnection';
import { AnswerOutgrewRoom, classifyFailure } from './errorMapping';
import type { CseHttpClient, UpstreamCall } from './CseHttpClient';
import { paths } from './paths';
import { UpstreamBodyError } from './parseJson';
import type { AnswerRoom, UpstreamAnswer, UpstreamRequestContext } from './stages/types';
import { asEngine, asJob, asListBody, isObject, type CseEngine, type CseJob } from './types';

/** Room its operation holds for one call's answer, until the call ends. */
export interface CallRoom extends AnswerRoom {
  end(): void;
}

/** Epoch milliseconds, inclusive, on the job's start time. */
export interface JobTimeFilter {
  readonly from: number | undefined;
  readonly to: number | undefined;
}

/** How `from-time` and `to-time` are written: CSE_TIME_FORMAT (the docs say only "String"). */
export type TimeFormat = 'epoch-ms' | 'epoch-s' | 'iso-8601';

const WIRE_TIME: Readonly<Record<TimeFormat, (ms: number) => string>> = {
  'epoch-ms': String,
  'epoch-s': (ms) => String(Math.floor(ms / 1000)),
  'iso-8601': (ms) => encodeURIComponent(new Date(ms).toISOString()),
};

export interface CseApiOptions {
  http: CseHttpClient;
  request: UpstreamRequestContext;
  /** Bounds the calls of one operation in flight at once (fan-out over many engines). */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  pageBase: 0 | 1;
  timeFormat: TimeFormat;
  /** Whole-response caching must not keep a "not found". */
  onNotFound?: () => void;
  /** `beforeCall` throws once the operation has used its bytes, or would with `bytes` more; `callStarts`
   * waits for room among the answers being made, and holds some for the call's answer until the call ends;
   * an answer that outgrows it is asked for again once there is room for what it announced. */
  budget?: {
    beforeCall(bytes?: number): void;
    callStarts(kind: string, items: number, atLeast?: number): CallRoom | Promise<CallRoom>;
    spendUpstream(bytes: number): void;
    learnSize(kind: string, bytes: number, items: number): void;
  };
}

/** The four upstream operations, bound to one caller's credentials; `null` for "not found". */
export class CseApi {
  constructor(private readonly options: CseApiOptions) {}

  async listEngines(call: PageCall): Promise<ListPage<CseEngine>> {
    const path = paths.listEngines(this.projectId);
    // Never null: see `one`.
    return (await this.one({ route: 'listEngines', path, query: this.pageQuery(call) }, pageOf(asEngine), call.size))!;
  }

  async getEngine(engineId: string): Promise<CseEngine | null> {
    const path = paths.getEngine(this.projectId, engineId);
    return this.one({ route: 'getEngine', path, engineId }, (value) => askedEngine(asEngine(value), engineId));
  }

  async listJobs(engineId: string, filter: JobTimeFilter, call: PageCall): Promise<ListPage<CseJob> | null> {
    let query = this.pageQuery(call);
    const time = WIRE_TIME[this.options.timeFormat];
    if (filter.from !== undefined) query += `&from-time=${time(filter.from)}`;
    if (filter.to !== undefined) query += `&to-time=${time(filter.to)}`;
    const path = paths.listJobs(this.projectId, engineId);
    const guard = (job: unknown) => engineJob(asJob(job), engineId);
    return this.one({ route: 'listJobs', path, query, engineId }, pageOf(guard), call.size);
  }

  async getJob(engineId: string, jobId: string): Promise<CseJob | null> {
    const path = paths.getJob(this.projectId, engineId, jobId);
    return this.one({ route: 'getJob', path, engineId }, (value) => engineJob(askedJob(asJob(value), jobId), engineId));
  }

  private get projectId(): string {
    return this.options.request.credentials.projectId;
  }

  private pageQuery(call: PageCall): string {
    return `?offset=${pageOffset(call, this.options.pageBase)}&limit=${call.size}`;
  }

  /** Counted against the operation's budget, a cached answer too. `items`: the page's size asked, for a list. */
  private async one<T>(call: UpstreamCall, guard: (value: unknown) => T, items = 1): Promise<T | null> {
    const { budget } = this.options;
    budget?.beforeCall();
    // What such answers weigh is learned per route, project and engine.
    const kind = `${call.route} ${this.projectId} ${call.engineId ?? ''}`;
    const answer = await this.options.limit(async () => {
      // What its answer announced when it did not fit the room held for it: asked again with that much.
      let atLeast = 0;
      // What that answer brought at least: past what the operation may use, it is not asked for again.
      let outgrew = 0;
      for (;;) {
        budget?.beforeCall(outgrew);
        // When it starts, not when it is asked for: the operation's calls are all asked for at once, before
        // any answer counts. One waiting for room holds no page fetched for it.
        const started = budget?.callStarts(kind, items, atLeast);
        const room = started instanceof Promise ? await started : started;
        try {
          const answered = await this.traced({ ...call, room });
          if (answered.kind === 'not-found') return answered;
          budget?.learnSize(kind, answered.bytes, itemsIn(answered.body, items));
          // Counted before its room is given back and the next call starts and looks.
          budget?.spendUpstream(answered.bytes);
          return answered;
        } catch (error) {
          if (!(error instanceof AnswerOutgrewRoom) || budget === undefined) throw error;
          // Read in part, its length unknown: asked for with twice as much, so a chunked answer is asked for a
          // few times at most; what such answers weigh is what is known.
          outgrew = error.bytes;
          atLeast = error.announced ? error.bytes : 2 * error.bytes;
          budget.learnSize(kind, error.bytes, items);
        } finally {
          room?.end();
        }
      }
    });
    if (answer.kind === 'not-found') {
      // The project's engine list names no engine or job that could be missing: the upstream failed.
      if (call.route === 'listEngines') {
        throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'The upstream answered the engine list with "not found".', { upstream: answer.upstream });
      }
      this.options.onNotFound?.();
      return null;
    }
    try {
      return guard(answer.body);
    } catch (error) {
      // JSON, but not the shape the upstream documents.
      if (!(error instanceof UpstreamBodyError)) throw error;
      throw classifyFailure({ thrown: error, status: 200, requestId: answer.requestId }).error;
    }
  }

  /** Without a tracer provider, the operation's trace headers go upstream as they came. */
  private traced(call: UpstreamCall): Promise<UpstreamAnswer> {
    const tracer = registeredTracer();
    if (tracer === undefined) return this.options.http.get(call, this.options.request);
    return this.spanned(tracer, call);
  }

  /** A client span whose context goes upstream; a failure marks it with its code, never its URL. */
  private async spanned(tracer: Tracer, call: UpstreamCall): Promise<UpstreamAnswer> {
    const { http, request } = this.options;
    const parent = propagation.extract(context.active(), request.propagate ?? {});
    const attributes = { 'cse.route': call.route, 'http.request.method': 'GET' };
    const span = tracer.startSpan(`cse ${call.route}`, { kind: SpanKind.CLIENT, attributes }, parent);
    const propagate: Record<string, string> = { ...request.propagate };
    propagation.inject(trace.setSpan(parent, span), propagate);
    try {
      const answer = await http.get(call, { ...request, propagate });
      span.setAttribute('cse.outcome', answer.kind);
      return answer;
    } catch (error) {
      const gatewayError = error instanceof GatewayError ? error : undefined;
      const code = gatewayError?.code ?? 'INTERNAL_SERVER_ERROR';
      span.setAttribute('error.type', code);
      const status = (gatewayError?.extensions.upstream as { status?: number } | undefined)?.status;
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  }
}

/** The items a page's answer holds (its weight per item is learned from them), else `asked`. */
function itemsIn(body: unknown, asked: number): number {
  const data = asked > 1 && isObject(body) ? body.data : undefined;
  return Array.isArray(data) ? data.length : asked;
}

function pageOf<T>(guard: (value: unknown) => T): (value: unknown) => ListPage<T> {
  return (value) => {
    const body = asListBody(value);
    return { total: body.total, data: body.data.map(guard) };
  };
}

// An answer about another engine or job than the one asked for would be merged into the wrong object
// (a client's normalised cache, a router's entities, a subscription's watched job): a bad response.

/** Engine ids are UUIDs, whose letters may come back in another case than they were asked in. */
const sameEngine = (id: unknown, engineId: string): boolean =>
  id === engineId || (typeof id === 'string' && id.length === engineId.length && id.toLowerCase() === engineId.toLowerCase());

function askedEngine(engine: CseEngine, engineId: string): CseEngine {
  if (sameEngine(engine.id, engineId)) return engine;
  throw new UpstreamBodyError('The upstream answered with another engine than the one asked for.');
}

/** Job ids are digits; the path may have leading zeros the answer's id has not. */
function askedJob(job: CseJob, jobId: string): CseJob {
  if (String(job.id).replace(/^0+(?=\d)/, '') === jobId.replace(/^0+(?=\d)/, '')) return job;
  throw new UpstreamBodyError('The upstream answered with another job than the one asked for.');
}

/** One of the engine's jobs, its engine named as asked (on a copy: upstream answers are shared and frozen):
 * the engine's loader, and the estimate of a job's engine as free under its own, key on that spelling. */
function engineJob(job: CseJob, engineId: string): CseJob {
  if (job.engineId === engineId) return job;
  if (!job.engineId || sameEngine(job.engineId, engineId)) return { ...job, engineId };
  throw new UpstreamBodyError("The upstream answered with another engine's job.");
}
