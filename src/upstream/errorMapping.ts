/**
 * The one place where an upstream failure — an HTTP status with one of the upstream's error body
 * dialects, or a transport error from undici — becomes a gateway error with a code from the
 * closed set in `errors/codes`.
 *
 * What a client may learn is limited to `extensions.upstream` = `{status, code?, requestId?}` and
 * a fixed message per case. The upstream's own message, its body, the URL and the token never
 * reach the error a client sees: upstream messages can echo request details, and HTML from a
 * proxy can hold anything. The original error stays available as `cause` for the log.
 */
import { ErrorCode } from '../errors/codes';
import { GatewayError, type UpstreamErrorInfo } from '../errors/GatewayError';
import { UpstreamBodyError } from './parseJson';

/** Response headers as undici gives them (lower-case names, repeated headers as arrays). */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** How a non-2xx answer is to be treated. */
export type ResponseClassification =
  | { kind: 'not-found'; upstream: UpstreamErrorInfo }
  | { kind: 'error'; error: GatewayError };

/** Codes the upstream uses for "this engine or job does not exist" (it answers 400, not 404). */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['SVCSTG.00501116', 'SVCSTG.00501125', 'SVCSTG.00501153']);
/** Terraform treats this one as "engine gone" even when it comes with HTTP 401. */
const ENGINE_GONE_CODE = 'SVCSTG.00501125';
const MALFORMED_JOB_ID_CODE = 'SVCSTG.00501152';

// What a code or request id may look like to be passed on. Real ones are short and plain
// (`SVCSTG.00501116`, 32 hex digits); anything else is dropped rather than shown to a client,
// since the field might hold whatever a misbehaving proxy wrote (an IAM token is thousands of
// characters long and cannot pass).
const SAFE_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fixed client-facing wording, one per case. */
const MESSAGES = {
  malformedId: 'The upstream refused the job id as malformed.',
  unauthenticated: "The upstream refused the caller's token.",
  forbidden: "The caller's token may not access this project or resource.",
  rateLimited: 'The upstream is throttling requests; try again later.',
  unavailable: 'The upstream is unavailable.',
  timeout: 'The upstream did not answer in time.',
  upstreamError: 'The upstream answered with an error.',
  badStatus: 'The upstream answered with an unexpected HTTP status.',
  unreachable: 'The upstream could not be reached.',
  callFailed: 'The call to the upstream failed.',
  badBody: 'The upstream answered with a body the gateway could not read.',
} as const;

/**
 * Classifies an upstream answer that was not a success.
 *
 * "Not found" arrives as HTTP 400 (for one code also 401) with a code in the body, so it is told
 * apart here and left to the caller, which answers `null` where the schema allows it. Everything
 * else becomes a {@link GatewayError}:
 *
 * | status | code |
 * |---|---|
 * | 400 with SVCSTG.00501152 (malformed job id) | BAD_USER_INPUT |
 * | 401 | UNAUTHENTICATED |
 * | 403 | FORBIDDEN |
 * | 429 | RATE_LIMITED, with `retryAfter` when `Retry-After` is valid (at most {@link MAX_RETRY_AFTER_S}) |
 * | 502, 503 | UPSTREAM_UNAVAILABLE (503 with `retryAfter` when given) |
 * | 504 | UPSTREAM_TIMEOUT |
 * | any other 4xx/5xx | UPSTREAM_ERROR |
 * | anything else (1xx, 2xx, 3xx …) | UPSTREAM_BAD_RESPONSE |
 *
 * Never throws: the body may be any of the documented dialects, empty, HTML or garbage.
 *
 * @param now the current time in epoch ms, for a `Retry-After` given as an HTTP-date
 */
export function classifyResponse(
  status: number,
  headers: UpstreamHeaders,
  bodyText: string,
  now: number = Date.now(),
): ResponseClassification {
  const fields = readErrorBody(bodyText);
  const upstream: UpstreamErrorInfo = { status };
  if (fields.code !== undefined) upstream.code = fields.code;
  const requestId = safeToken(header(headers, 'x-request-id')) ?? fields.requestId;
  if (requestId !== undefined) upstream.requestId = requestId;

  const code = fields.code;
  if (code !== undefined) {
    if ((status === 400 || status === 404) && NOT_FOUND_CODES.has(code)) return { kind: 'not-found', upstream };
    if (status === 401 && code === ENGINE_GONE_CODE) return { kind: 'not-found', upstream };
    if (status === 400 && code === MALFORMED_JOB_ID_CODE) {
      return fail(ErrorCode.BAD_USER_INPUT, MESSAGES.malformedId, upstream);
    }
  }
  switch (status) {
    case 401:
      return fail(ErrorCode.UNAUTHENTICATED, MESSAGES.unauthenticated, upstream);
    case 403:
      return fail(ErrorCode.FORBIDDEN, MESSAGES.forbidden, upstream);
    case 429:
      return fail(ErrorCode.RATE_LIMITED, MESSAGES.rateLimited, upstream, retryAfterSeconds(headers, now));
    case 502:
      return fail(ErrorCode.UPSTREAM_UNAVAILABLE, MESSAGES.unavailable, upstream);
    case 503:
      return fail(ErrorCode.UPSTREAM_UNAVAILABLE, MESSAGES.unavailable, upstream, retryAfterSeconds(headers, now));
    case 504:
      return fail(ErrorCode.UPSTREAM_TIMEOUT, MESSAGES.timeout, upstream);
    default:
      if (Number.isInteger(status) && status >= 400 && status <= 599) {
        return fail(ErrorCode.UPSTREAM_ERROR, MESSAGES.upstreamError, upstream);
      }
      return fail(ErrorCode.UPSTREAM_BAD_RESPONSE, MESSAGES.badStatus, upstream);
  }
}

function fail(
  code: ErrorCode,
  message: string,
  upstream: UpstreamErrorInfo,
  retryAfter?: number,
): ResponseClassification {
  return {
    kind: 'error',
    error: new GatewayError(code, message, retryAfter === undefined ? { upstream } : { upstream, retryAfter }),
  };
}

interface ErrorBodyFields {
  code?: string;
  requestId?: string;
}

/**
 * The code and request id from any of the body dialects: `error_code`, `errorCode` or `code`,
 * and the API gateway's `request_id`. A body that is not a JSON object (or an array whose first
 * item is one) yields nothing.
 */
function readErrorBody(bodyText: string): ErrorBodyFields {
  if (typeof bodyText !== 'string') return {};
  const trimmed = bodyText.trim();
  // Skips JSON.parse for HTML and empty bodies, the common non-JSON answers.
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return {};
  }
  // Some list answers come wrapped in an array; errors might too, and it costs nothing to look.
  const body: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const record = body as Record<string, unknown>;
  const out: ErrorBodyFields = {};
  const code = firstSafe(record.error_code, record.errorCode, record.code);
  if (code !== undefined) out.code = code;
  const requestId = firstSafe(record.request_id, record.requestId);
  if (requestId !== undefined) out.requestId = requestId;
  return out;
}

function firstSafe(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    const text = typeof candidate === 'number' && Number.isSafeInteger(candidate) ? String(candidate) : candidate;
    const value = safeToken(text);
    if (value !== undefined) return value;
  }
  return undefined;
}

function safeToken(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? value : undefined;
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  // undici lower-cases names, but a hand-built record (tests, other clients) may not.
  let value = headers[name];
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  return Array.isArray(value) ? value[0] : value;
}

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * The longest `Retry-After` the gateway takes from the upstream, in seconds; longer ones are cut
 * to it. It is what a client is told (`extensions.retryAfter`) and how long a 429 keeps the
 * gateway from calling again for that caller and engine (see BreakerBoard.throttle), so a proxy's
 * or a bug's `Retry-After: 99999999999` must neither reach a client as three thousand years nor
 * lock a caller out. Five minutes is well past the windows the API gateway throttles over
 * (seconds to a minute), and short enough that a wrong header costs little. A constant, not a
 * setting: there is nothing for an operator to trade off here.
 */
export const MAX_RETRY_AFTER_S = 300;

/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from `now`, at most {@link MAX_RETRY_AFTER_S}:
 * delta-seconds as given, an HTTP-date as the seconds until then (0 when already past).
 * `undefined` when absent or invalid, so the client is told nothing rather than something wrong.
 */
function retryAfterSeconds(headers: UpstreamHeaders, now: number): number | undefined {
  const raw = header(headers, 'retry-after')?.trim();
  if (raw === undefined || raw === '') return undefined;
  // Any run of digits is a valid delta, however long: past the bound it is the bound.
  if (/^\d+$/.test(raw)) return Math.min(Number(raw), MAX_RETRY_AFTER_S);
  if (!IMF_FIXDATE.test(raw) && !RFC850_DATE.test(raw) && !ASCTIME_DATE.test(raw)) return undefined;
  // The regex has pinned the three HTTP-date forms, all of which V8's Date.parse reads as UTC.
  const at = Date.parse(raw.endsWith('GMT') ? raw : `${raw} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(0, Math.ceil((at - now) / 1000)));
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TIMEOUT_NAMES: ReadonlySet<string> = new Set(['AbortError', 'TimeoutError']);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/**
 * Classifies an error thrown while calling the upstream (no HTTP answer, or an unreadable one).
 *
 * - undici timeouts (`UND_ERR_CONNECT_TIMEOUT`, `UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_BODY_TIMEOUT`)
 *   and errors named `AbortError` or `TimeoutError` (including `DOMException`s from
 *   `AbortSignal.timeout`) → UPSTREAM_TIMEOUT;
 * - connection failures (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `EAI_AGAIN`, `EHOSTUNREACH`,
 *   `ENETUNREACH`, `EPIPE`, `UND_ERR_SOCKET`, `UND_ERR_CLOSED`, `UND_ERR_DESTROYED`) →
 *   UPSTREAM_UNAVAILABLE;
 * - {@link UpstreamBodyError} → UPSTREAM_BAD_RESPONSE;
 * - a {@link GatewayError} is returned unchanged: it is already classified;
 * - anything else → UPSTREAM_UNAVAILABLE as well, with its own message.
 *
 * Codes are looked for on the error and along its `cause` chain (fetch wraps them in a
 * `TypeError`), and in the `errors` of an `AggregateError` (Node's happy-eyeballs connect).
 * The original error is always the `cause`, for the log, and never part of `extensions`.
 */
export function classifyTransportError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof UpstreamBodyError || codeOf(err) === 'UPSTREAM_BAD_BODY') {
    return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, MESSAGES.badBody, { cause: err });
  }
  const related = relatedErrors(err);
  if (related.some((e) => TIMEOUT_CODES.has(codeOf(e) ?? '') || TIMEOUT_NAMES.has(nameOf(e) ?? ''))) {
    return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, MESSAGES.timeout, { cause: err });
  }
  if (related.some((e) => UNREACHABLE_CODES.has(codeOf(e) ?? ''))) {
    return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, MESSAGES.unreachable, { cause: err });
  }
  // Unrecognised: the upstream gave no usable answer either way, so the client hears the same
  // code; the different wording and the kept cause tell the log that this one is not understood.
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, MESSAGES.callFailed, { cause: err });
}

/** The error, its causes and aggregated errors, breadth-first, bounded against cycles. */
function relatedErrors(err: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || out.includes(next)) continue;
    out.push(next);
    const { cause, errors } = next as { cause?: unknown; errors?: unknown };
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors.slice(0, 8));
  }
  return out;
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function nameOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}
