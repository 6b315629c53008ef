import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { Agent, type Dispatcher } from 'undici';
import { timeoutReason } from './boundedSignal';
import { classifyFailure, type Failure } from './errorMapping';
import { parseUpstreamBody, UpstreamBodyError } from './parseJson';
import { remainingMs, type AttemptHandler, type AttemptRequest, type UpstreamAnswer } from './stages/types';
import type { UpstreamRequestContext } from './stages/types';

export interface ExchangeOptions {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly attemptTimeoutMs: number;
  /** Larger successful bodies are refused: memory, and parse time. */
  readonly maxResponseBytes: number;
  /** Only Redis wants the body's text. */
  readonly keepText: boolean;
}

// Below the 5 s idle timeout common to servers and proxies: the gateway closes an idle connection
// first rather than write a request into a socket the other end is closing.
const UPSTREAM_KEEP_ALIVE_MS = 4000;

// Not undici's retry interceptor: it waits out `Retry-After` past the operation's deadline, retries
// timeouts, and hides attempts from breakers.
export function createUpstreamDispatcher(connections: number, timeoutMs: number): Dispatcher {
  return new Agent({
    connections,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
  });
}

// Error bodies are only read for their code; a proxy's HTML page need not be read whole.
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const TOO_LARGE = 'The upstream answer is larger than the gateway accepts.';

/** Never throws; a failure at the deadline, or whose callers all left, says nothing of the upstream. */
export function exchangeStage(options: ExchangeOptions): AttemptHandler {
  return async (attempt) => {
    const budget = Math.min(options.attemptTimeoutMs, remainingMs(attempt.request.deadline));
    const started = performance.now();
    const exchange = new Exchange(options, attempt, Math.max(1, budget));
    const [status, outcome] = await exchange.outcome;
    const durationMs = performance.now() - started;
    if (!('error' in outcome)) return { ok: true, answer: outcome, status: status!, durationMs };
    const cut = attempt.signal.aborted || (exchange.timedOut && budget < options.attemptTimeoutMs);
    return { ...outcome, ...(cut ? { kind: 'cancelled', retry: false } : {}), ok: false, status, durationMs };
  };
}

type Outcome = [status: number | undefined, UpstreamAnswer | Failure];

/**
 * One GET as undici's handler: the body decoded as it arrives (megabytes decoded at the end are one
 * long step), with no stream, request promise or signal of its own; one timer bounds the attempt.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly outcome: Promise<Outcome>;
  timedOut = false;
  private settle!: (outcome: Outcome | Promise<Outcome>) => void;
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the attempt was stopped before undici started it. */
  private stopped: unknown;
  private timer: NodeJS.Timeout | undefined;
  private status: number | undefined;
  private headers: IncomingHttpHeaders = {};
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private size = 0;

  constructor(
    private readonly options: ExchangeOptions,
    private readonly attempt: AttemptRequest,
    ms: number,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    const { signal } = attempt;
    if (signal.aborted) {
      this.finish([undefined, classifyFailure({ thrown: signal.reason })]);
      return;
    }
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.stop(timeoutReason());
    }, ms).unref();
    signal.addEventListener('abort', this.onAbort, { once: true });
    const headers = upstreamHeaders(attempt.request);
    options.dispatcher.dispatch({ origin: options.origin, path: attempt.path, method: 'GET', headers }, this);
  }

  // A function, not this object with `handleEvent`: EventTarget kept such a listener, and the body it
  // holds, alive past young collections.
  private readonly onAbort = () => this.stop(this.attempt.signal.reason);

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopped !== undefined) controller.abort(this.stopped as Error);
  }

  onResponseStart(_controller: unknown, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const ok = isSuccess(this.status);
    const max = ok ? this.options.maxResponseBytes : MAX_ERROR_BODY_BYTES;
    this.size += chunk.length;
    if (this.size <= max) this.text += this.decoder.write(chunk);
    else if (ok) controller.abort(new UpstreamBodyError(TOO_LARGE));
    else {
      // Error bodies are only read for their code: the rest need not arrive.
      this.text += this.decoder.write(chunk.subarray(0, chunk.length - (this.size - max)));
      this.failed();
      controller.abort(new Error('The gateway read enough of the error body.'));
    }
  }

  onResponseEnd(): void {
    if (!isSuccess(this.status)) return this.failed();
    this.finish(answerOf(this.status!, this.text + this.decoder.end(), this.requestId(), this.options.keepText));
  }

  /** Before an answer's status, or within a successful body; an error body cut off only loses its code. */
  onResponseError(_controller: unknown, error: Error): void {
    const { status } = this;
    if (status !== undefined && !isSuccess(status)) return this.failed('');
    this.finish([status, classifyFailure({ thrown: error, status, requestId: this.requestId() })]);
  }

  private requestId(): string | undefined {
    const id = this.headers['x-request-id'];
    return Array.isArray(id) ? id[0] : id;
  }

  private failed(body = this.text + this.decoder.end()): void {
    const status = this.status!;
    this.finish([status, classifyFailure({ status, headers: this.headers, body })]);
  }

  private stop(reason: unknown): void {
    if (this.controller === undefined) this.stopped = reason;
    else this.controller.abort(reason as Error);
  }

  /** Only the first outcome counts (a promise settles once). */
  private finish(outcome: Outcome | Promise<Outcome>): void {
    clearTimeout(this.timer);
    this.attempt.signal.removeEventListener('abort', this.onAbort);
    this.settle(outcome);
  }
}

async function answerOf(status: number, text: string, requestId: string | undefined, keepText: boolean): Promise<Outcome> {
  try {
    const parsed = await parseUpstreamBody(text);
    const answer: UpstreamAnswer = { kind: 'ok', body: parsed, requestId, bytes: Buffer.byteLength(text) };
    if (keepText) answer.text = text;
    return [status, answer];
  } catch (error) {
    return [status, classifyFailure({ thrown: error, status, requestId })];
  }
}

const isSuccess = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;

function upstreamHeaders({ credentials, propagate }: UpstreamRequestContext): Record<string, string> {
  const headers: Record<string, string> = {
    ...propagate,
    'x-auth-token': credentials.token,
    accept: 'application/json',
    'content-type': 'application/json;charset=UTF-8',
  };
  const enterprise = credentials.enterpriseProjectId;
  if (enterprise !== undefined) headers['x-enterprise-project-id'] = enterprise;
  return headers;
}
