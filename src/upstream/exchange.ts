import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { UpstreamErrorInfo } from '../errors/GatewayError';
import { classifyFailure, type Failure } from './errorMapping';
import { parseUpstreamJson, UpstreamBodyError } from './parseJson';
import { checkJsonDepth, parseUpstreamJsonInTurns } from './parseInTurns';

/**
 * A successful answer (with the size of its body as received, what caches count), or the
 * upstream's "not found". `text` is the body as sent, kept when Redis is configured (`keepText`)
 * so Redis is given it instead of a second serialisation (see encodeAnswer in redis/SharedAnswers.ts);
 * the in-memory cache keeps answers without it (see withoutText).
 */
export type UpstreamAnswer =
  | { kind: 'ok'; body: unknown; requestId: string | undefined; bytes: number; text?: string }
  | { kind: 'not-found'; upstream: UpstreamErrorInfo };

/** What one HTTP exchange with the upstream came to, and how long it took. */
export type ExchangeResult =
  | { readonly ok: true; readonly answer: UpstreamAnswer; readonly status: number; readonly durationMs: number }
  | (Failure & { readonly ok: false; readonly status: number | undefined; readonly durationMs: number });

interface ExchangeRequest {
  readonly origin: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
  /** Larger successful bodies are refused (`CSE_MAX_RESPONSE_BYTES`): memory, and parse time. */
  readonly maxBodyBytes: number;
  /** Keep the body's text on the answer (`text`): only Redis wants it. */
  readonly keepText?: boolean;
}

/**
 * Bodies larger than this are checked for their nesting depth before they are parsed (or parsed
 * in turns); smaller ones parse in a few milliseconds however they nest.
 */
const DEPTH_CHECKED_FROM_BYTES = 256 * 1024;
/** The upstream's shapes nest under 10 levels (list → job → phase → task → brief). */
const MAX_BODY_DEPTH = 64;

/**
 * An upstream body — from the upstream, or as Redis kept it — parsed by the same rules.
 * @throws {UpstreamBodyError} when it nests too deep or is not JSON
 */
export function parseUpstreamBody(text: string): unknown {
  if (text.length > DEPTH_CHECKED_FROM_BYTES) checkJsonDepth(text, MAX_BODY_DEPTH);
  return parseUpstreamJson(text);
}

/** Error bodies are only read for their code; a proxy's HTML page need not be read whole. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** One GET, exactly once: no retry, no cache. Never throws: every failure comes back classified. */
export async function exchange(dispatcher: Dispatcher, request: ExchangeRequest): Promise<ExchangeResult> {
  const started = performance.now();
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({ origin: request.origin, path: request.path, method: 'GET', headers: request.headers, signal: request.signal });
  } catch (error) {
    return failed(classifyFailure({ thrown: error }), undefined, started);
  }

  const { statusCode, headers, body } = response;
  if (statusCode >= 200 && statusCode < 300) {
    const requestId = headerValue(headers['x-request-id']);
    try {
      const text = await readText(body, request.maxBodyBytes, true);
      // A large body is parsed in turns of the event loop (see parseInTurns), not in one long step.
      const parsed = text.length > DEPTH_CHECKED_FROM_BYTES ? await parseUpstreamJsonInTurns(text, MAX_BODY_DEPTH) : parseUpstreamJson(text);
      const bytes = Buffer.byteLength(text);
      const answer: UpstreamAnswer = request.keepText === true ? { kind: 'ok', body: parsed, requestId, bytes, text } : { kind: 'ok', body: parsed, requestId, bytes };
      return { ok: true, answer, status: statusCode, durationMs: performance.now() - started };
    } catch (error) {
      return failed(classifyFailure({ thrown: error, status: statusCode, requestId }), statusCode, started);
    }
  }

  let text = '';
  try {
    text = await readText(body, MAX_ERROR_BODY_BYTES, false);
  } catch {
    // The status alone classifies the failure; a body cut off mid-way only loses its code.
  }
  const classified = classifyFailure({ status: statusCode, headers, body: text });
  if (classified.kind === 'not-found') return { ok: true, answer: classified, status: statusCode, durationMs: performance.now() - started };
  return failed(classified, statusCode, started);
}

function failed(failure: Failure, status: number | undefined, started: number): ExchangeResult {
  return { ...failure, ok: false, status, durationMs: performance.now() - started };
}

/** The answer as the in-memory cache keeps it: its body parsed, not twice (parsed and as text). */
export function withoutText(answer: UpstreamAnswer): UpstreamAnswer {
  return answer.kind === 'ok' && answer.text !== undefined ? { kind: 'ok', body: answer.body, requestId: answer.requestId, bytes: answer.bytes } : answer;
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
      if (strict) throw new UpstreamBodyError('The upstream answer is larger than the gateway accepts.');
      text += decoder.write(buffer.subarray(0, buffer.length - (size - maxBytes)));
      break;
    }
    text += decoder.write(buffer);
  }
  return text + decoder.end();
}
