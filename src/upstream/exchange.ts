import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import { ErrorCode } from '../errors/codes';
import { GatewayError, type UpstreamErrorInfo } from '../errors/GatewayError';
import { classifyResponse, classifyTransportError } from './errorMapping';
import { jsonNestsDeeperThan } from './jsonDepth';
import { parseUpstreamJson, UpstreamBodyError } from './parseJson';
import { parseUpstreamJsonInTurns } from './parseInTurns';
import { failureOfStatus, type FailureKind } from './resilience/failureKind';

/**
 * A successful answer (with the size of its body as received, what caches count), or the
 * upstream's "not found" (HTTP 400 with a not-found code). `text` is the body as the upstream sent
 * it, on an answer fresh from the exchange when Redis is configured (`keepText`): Redis is given
 * that instead of a second serialisation of `body` (see answerCodec); the in-memory cache keeps
 * answers without it (see withoutText).
 */
export type UpstreamAnswer =
  | { kind: 'ok'; body: unknown; requestId: string | undefined; bytes: number; text?: string }
  | { kind: 'not-found'; upstream: UpstreamErrorInfo };

/** What one HTTP exchange with the upstream came to, and how long it took. */
export type ExchangeResult =
  | { readonly ok: true; readonly answer: UpstreamAnswer; readonly status: number; readonly durationMs: number }
  | { readonly ok: false; readonly error: GatewayError; readonly status: number | undefined; readonly kind: FailureKind; readonly durationMs: number };

export interface ExchangeRequest {
  readonly origin: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
  /**
   * Larger successful bodies are refused as UPSTREAM_BAD_RESPONSE (`CSE_MAX_RESPONSE_BYTES`): one
   * answer may hold this much of the process's memory at most, and parsing it takes time in
   * proportion. A page of 100 jobs with their tasks is about 100 KiB.
   */
  readonly maxBodyBytes: number;
  /** Keep the body's text on the answer (`text`): only Redis wants it, and it doubles what an answer holds. */
  readonly keepText?: boolean;
}

/**
 * Bodies larger than this are scanned for their nesting depth before they are parsed, and refused
 * beyond {@link MAX_BODY_DEPTH} levels. Smaller ones are not: scanning costs as much as parsing,
 * and a text this small parses in a few milliseconds however it nests.
 */
const DEPTH_CHECKED_FROM_BYTES = 256 * 1024;
/** The deepest the upstream's shapes nest is under 10 levels (list → job → phase → task → brief). */
const MAX_BODY_DEPTH = 64;

/**
 * An upstream body — from the upstream, or as Redis kept it for the fleet — parsed by the same
 * rules: the depth check above, then parseUpstreamJson.
 * @throws {UpstreamBodyError} when it nests too deep or is not JSON
 */
export function parseUpstreamBody(text: string): unknown {
  if (text.length > DEPTH_CHECKED_FROM_BYTES && jsonNestsDeeperThan(text, MAX_BODY_DEPTH)) {
    throw new UpstreamBodyError(`The upstream body nests more than ${MAX_BODY_DEPTH} levels deep.`);
  }
  return parseUpstreamJson(text);
}

/**
 * A body from the upstream, parsed by the rules of parseUpstreamBody; one larger than a depth check
 * would spare is parsed in turns of the event loop (see parseInTurns), not in one long step.
 * @throws {UpstreamBodyError} when it nests too deep or is not JSON
 */
export async function parseUpstreamBodyInTurns(text: string): Promise<unknown> {
  return text.length > DEPTH_CHECKED_FROM_BYTES ? parseUpstreamJsonInTurns(text, MAX_BODY_DEPTH) : parseUpstreamBody(text);
}

/** Error bodies are only read for their code; a proxy's HTML page need not be read whole. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * One GET, exactly once: no retry, no cache. Never throws: every failure comes back classified,
 * as the GatewayError a client would see and the {@link FailureKind} retries and breakers use.
 */
export async function exchange(dispatcher: Dispatcher, request: ExchangeRequest): Promise<ExchangeResult> {
  const started = performance.now();
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({ origin: request.origin, path: request.path, method: 'GET', headers: request.headers, signal: request.signal });
  } catch (error) {
    return transportFailure(error, undefined, started);
  }

  const { statusCode, headers, body } = response;
  if (statusCode >= 200 && statusCode < 300) {
    const requestId = headerValue(headers['x-request-id']);
    let text: string;
    try {
      text = await readText(body, request.maxBodyBytes, true);
    } catch (error) {
      return transportFailure(error, statusCode, started);
    }
    try {
      const body = await parseUpstreamBodyInTurns(text);
      const bytes = Buffer.byteLength(text);
      const answer: UpstreamAnswer = request.keepText === true ? { kind: 'ok', body, requestId, bytes, text } : { kind: 'ok', body, requestId, bytes };
      return { ok: true, answer, status: statusCode, durationMs: performance.now() - started };
    } catch (error) {
      if (!(error instanceof UpstreamBodyError)) throw error;
      return { ok: false, error: badResponse(statusCode, requestId, error), status: statusCode, kind: 'bad-response', durationMs: performance.now() - started };
    }
  }

  let text = '';
  try {
    text = await readText(body, MAX_ERROR_BODY_BYTES, false);
  } catch {
    // The status alone classifies the failure; a body cut off mid-way only loses its code.
  }
  const failure = classifyResponse(statusCode, headers, text);
  const durationMs = performance.now() - started;
  if (failure.kind === 'not-found') return { ok: true, answer: failure, status: statusCode, durationMs };
  return { ok: false, error: failure.error, status: statusCode, kind: failureOfStatus(statusCode), durationMs };
}

/** The answer as the in-memory cache keeps it: its body parsed, not twice (parsed and as text). */
export function withoutText(answer: UpstreamAnswer): UpstreamAnswer {
  return answer.kind === 'ok' && answer.text !== undefined ? { kind: 'ok', body: answer.body, requestId: answer.requestId, bytes: answer.bytes } : answer;
}

/** A 2xx answer whose body is not the JSON the upstream documents. */
export function badResponse(status: number, requestId: string | undefined, cause: unknown): GatewayError {
  const upstream: UpstreamErrorInfo = { status };
  if (requestId !== undefined) upstream.requestId = requestId;
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answered with a body the gateway cannot read.', {
    upstream,
    cause,
  });
}

/**
 * undici's codes for a request it refuses to send as given (an invalid header value, a path with
 * characters a request line cannot hold): the gateway built it, the upstream never saw it.
 */
const LOCAL_CODES: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_URL']);

function transportFailure(cause: unknown, status: number | undefined, started: number): ExchangeResult {
  const durationMs = performance.now() - started;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && LOCAL_CODES.has(code)) {
    // Masked as a bug (INTERNAL_SERVER_ERROR, logged with its cause), and held against no breaker:
    // before paths were checked segment by segment, ids from an upstream answer with a space in
    // them opened the whole-upstream breaker this way.
    const error = new GatewayError(ErrorCode.INTERNAL_SERVER_ERROR, 'The gateway could not send the upstream request.', { cause });
    return { ok: false, error, status, kind: 'local', durationMs };
  }
  const error = classifyTransportError(cause);
  const kind: FailureKind =
    error.code === ErrorCode.UPSTREAM_TIMEOUT ? 'timeout' : error.code === ErrorCode.UPSTREAM_BAD_RESPONSE ? 'bad-response' : 'connection';
  return { ok: false, error, status, kind, durationMs };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a body as UTF-8 text up to `maxBytes`. Past the bound a successful body is an error
 * (we would hold an unbounded amount of memory for one call); an error body is just truncated.
 */
async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number, strict: boolean): Promise<string> {
  // Decoded chunk by chunk as it arrives: a body of megabytes decoded at the end is one long step.
  const decoder = new StringDecoder('utf8');
  let text = '';
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      if (strict) {
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answer is larger than the gateway accepts.');
      }
      text += decoder.write(buffer.subarray(0, buffer.length - (size - maxBytes)));
      break;
    }
    text += decoder.write(buffer);
  }
  return text + decoder.end();
}
