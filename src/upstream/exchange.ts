import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { Agent, type Dispatcher } from 'undici';
import { AnswerOutgrewRoom, classifyFailure, timeoutReason, upstreamRequestId, type Failure } from './errorMapping';
import { parseUpstreamBody, UpstreamBodyError } from './parseJson';
import { remainingMs, type AttemptHandler, type AttemptRequest, type UpstreamAnswer } from './stages/types';
import type { ExchangeResult, UpstreamRequestContext } from './stages/types';

export interface ExchangeOptions {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly attemptTimeoutMs: number;
  /** Larger successful bodies are refused: memory, and parse time. */
  readonly maxResponseBytes: number;
  /** Only Redis wants the body's text. */
  readonly keepText: boolean;
}

// Below servers' and proxies' usual 5 s idle timeout: the gateway closes an idle connection first.
const UPSTREAM_KEEP_ALIVE_MS = 4000;

// Not undici's retry interceptor: it waits out `Retry-After` past the operation's deadline, retries
// timeouts, and hides attempts from breakers.
export function createUpstreamDispatcher(connections: number, timeoutMs: number): Dispatcher {
  // Headers and body are bounded by each attempt's own timer (exchangeStage), to the operation's deadline.
  return new Agent({ connections, connectTimeout: timeoutMs, keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS });
}

// Error bodies are only read for their code; a proxy's HTML page need not be read whole.
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const TOO_LARGE = 'The upstream answer is larger than the gateway accepts.';

/** Never throws; a failure at the deadline, or whose callers all left, says nothing of the upstream. */
export function exchangeStage(options: ExchangeOptions): AttemptHandler {
  return (attempt) => new Exchange(options, attempt).result;
}

// One GET as undici's handler: the body decoded as it arrives (megabytes decoded at the end are one
// long step), with no stream, request promise or signal of its own; one timer bounds the attempt.
class Exchange implements Dispatcher.DispatchHandler {
  readonly result: Promise<ExchangeResult>;
  private settle!: (result: ExchangeResult) => void;
  private readonly started = performance.now();
  private readonly budget: number;
  private timedOut = false;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private status: number | undefined;
  private headers: IncomingHttpHeaders = {};
  private requestId: string | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private size = 0;

  constructor(private readonly options: ExchangeOptions, private readonly attempt: AttemptRequest) {
    this.result = new Promise((resolve) => (this.settle = resolve));
    this.budget = Math.min(options.attemptTimeoutMs, remainingMs(attempt.request.deadline));
    const { signal } = attempt;
    if (signal.aborted) {
      this.finish(classifyFailure({ thrown: signal.reason }));
      return;
    }
    // The verdict waits one turn: an answer that came while the loop was busy (a burst, a long
    // step) is read first, and is no upstream timeout for the breakers to count.
    const timedOut = () => {
      if (this.settled) return;
      this.timedOut = true;
      this.stop(timeoutReason());
    };
    this.timer = setTimeout(() => setImmediate(timedOut), Math.max(1, this.budget)).unref();
    signal.addEventListener('abort', this.onAbort, { once: true });
    const headers = upstreamHeaders(attempt.request);
    // undici's dispatchers never throw here: they hand a failure to onResponseError.
    options.dispatcher.dispatch({ origin: options.origin, path: attempt.path, method: 'GET', headers }, this);
  }

  // A function: EventTarget kept a listener object (`handleEvent`), and the body it holds, past young GCs.
  private readonly onAbort = () => this.stop(this.attempt.signal.reason);

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Ended while queued for a connection (its caller left, its time ran out): ended then, never sent.
    if (this.settled) controller.abort(new Error('The attempt ended before it was sent.'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 103 Early Hints and the like: the answer follows
    this.status = status;
    this.headers = headers;
    this.requestId = upstreamRequestId(headers);
    const announced = isSuccess(status) ? contentLength(headers) : undefined;
    if (announced !== undefined) this.mayRead(controller, announced, true);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (isSuccess(this.status)) {
      if (this.mayRead(controller, this.size, false)) this.text += this.decoder.write(chunk);
      return;
    }
    if (this.size <= MAX_ERROR_BODY_BYTES) this.text += this.decoder.write(chunk);
    else {
      this.text += this.decoder.write(chunk.subarray(0, chunk.length - (this.size - MAX_ERROR_BODY_BYTES)));
      this.failed();
      controller.abort(new Error('The gateway read enough of the error body.'));
    }
  }

  /** A successful body of `bytes` (announced, or read so far) is read only within the bytes accepted and the
   * room its operation holds for it; else the call ends here, the rest never read. */
  private mayRead(controller: Dispatcher.DispatchController, bytes: number, announced: boolean): boolean {
    if (bytes > this.options.maxResponseBytes) controller.abort(new UpstreamBodyError(TOO_LARGE, { outsized: true }));
    else if (this.attempt.room?.fits(bytes) === false) controller.abort(new AnswerOutgrewRoom(bytes, announced));
    else return true;
    return false;
  }

  onResponseEnd(): void {
    if (isSuccess(this.status)) this.answer(this.text + this.decoder.end());
    else this.failed();
  }

  /** Before an answer's status, or within a successful body; an error body cut off only loses its code. */
  onResponseError(_controller: unknown, error: Error): void {
    if (this.settled) return;
    if (this.status !== undefined && !isSuccess(this.status)) return this.failed('');
    this.finish(classifyFailure({ thrown: error, status: this.status, requestId: this.requestId }));
  }

  private answer(text: string): void {
    const parsed = (body: unknown) => {
      const answer: UpstreamAnswer = { kind: 'ok', body, requestId: this.requestId, bytes: this.size };
      if (this.options.keepText) answer.text = text;
      this.finish(answer);
    };
    parseUpstreamBody(text, this.attempt.caller).then(parsed, (error: Error) => this.onResponseError(undefined, error));
  }

  private failed(body = this.text + this.decoder.end()): void {
    this.finish(classifyFailure({ status: this.status!, headers: this.headers, body }));
  }

  private stop(reason: unknown): void {
    if (this.controller !== undefined) return this.controller.abort(reason as Error);
    this.finish(classifyFailure({ thrown: reason }));
  }

  private finish(outcome: UpstreamAnswer | Failure): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.attempt.signal.removeEventListener('abort', this.onAbort);
    const { status } = this;
    const durationMs = performance.now() - this.started;
    if (!('error' in outcome)) return this.settle({ ok: true, answer: outcome, status: status!, durationMs });
    const cut = this.attempt.signal.aborted || (this.timedOut && this.budget < this.options.attemptTimeoutMs);
    this.settle({ ...outcome, ...(cut ? { kind: 'cancelled', retry: false } : {}), ok: false, status, durationMs });
  }
}

const isSuccess = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;

/** The body's length as the answer announces it, if it does plainly. */
function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Trace context only: an SDK's propagators would add the caller's `baggage` (any size, any content). */
function upstreamHeaders({ credentials, propagate }: UpstreamRequestContext): Record<string, string> {
  const headers: Record<string, string> = {
    'x-auth-token': credentials.token,
    accept: 'application/json',
    'content-type': 'application/json;charset=UTF-8',
  };
  if (propagate?.traceparent !== undefined) headers.traceparent = propagate.traceparent;
  if (propagate?.tracestate !== undefined) headers.tracestate = propagate.tracestate;
  const enterprise = credentials.enterpriseProjectId;
  if (enterprise !== undefined) headers['x-enterprise-project-id'] = enterprise;
  return headers;
}
