import { StringDecoder } from 'node:string_decoder';
import { Agent, type Dispatcher } from 'undici';
import { boundedSignal } from './boundedSignal';
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
    const bounded = boundedSignal(attempt.signal, Math.max(1, budget));
    const started = performance.now();
    const [status, outcome] = await exchange(options, attempt, bounded.signal).finally(bounded.dispose);
    const durationMs = performance.now() - started;
    if (!('error' in outcome)) return { ok: true, answer: outcome, status: status!, durationMs };
    const cut = attempt.signal.aborted || (bounded.signal.aborted && budget < options.attemptTimeoutMs);
    return { ...outcome, ...(cut ? { kind: 'cancelled', retry: false } : {}), ok: false, status, durationMs };
  };
}

type Outcome = [status: number | undefined, UpstreamAnswer | Failure];

async function exchange(options: ExchangeOptions, attempt: AttemptRequest, signal: AbortSignal): Promise<Outcome> {
  const { origin, dispatcher } = options;
  const headers = upstreamHeaders(attempt.request);
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({ origin, path: attempt.path, method: 'GET', headers, signal });
  } catch (error) {
    return [undefined, classifyFailure({ thrown: error })];
  }
  const { statusCode: status, body } = response;
  if (status >= 200 && status < 300) {
    const id = response.headers['x-request-id'];
    const requestId = Array.isArray(id) ? id[0] : id;
    try {
      const text = await readText(body, options.maxResponseBytes, true);
      const parsed = await parseUpstreamBody(text);
      const answer: UpstreamAnswer = { kind: 'ok', body: parsed, requestId, bytes: Buffer.byteLength(text) };
      if (options.keepText) answer.text = text;
      return [status, answer];
    } catch (error) {
      return [status, classifyFailure({ thrown: error, status, requestId })];
    }
  }
  let text = '';
  try {
    text = await readText(body, MAX_ERROR_BODY_BYTES, false);
  } catch {
    // The status alone classifies the failure; a body cut off mid-way only loses its code.
  }
  return [status, classifyFailure({ status, headers: response.headers, body: text })];
}

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

/** Past `maxBytes` a successful (`strict`) body is an error; an error body is just truncated. */
function readText(body: Dispatcher.ResponseData['body'], maxBytes: number, strict: boolean): Promise<string> {
  // Decoded as it arrives (megabytes decoded at the end are one long step), on events: no iterator per body.
  const decoder = new StringDecoder('utf8');
  let text = '';
  let size = 0;
  return new Promise((resolve, reject) => {
    body.on('data', (buffer: Buffer) => {
      size += buffer.length;
      if (size <= maxBytes) text += decoder.write(buffer);
      else if (strict) body.destroy(new UpstreamBodyError(TOO_LARGE));
      else {
        resolve(text + decoder.write(buffer.subarray(0, buffer.length - (size - maxBytes))) + decoder.end());
        body.destroy();
      }
    });
    body.on('end', () => resolve(text + decoder.end()));
    body.on('error', reject);
  });
}
