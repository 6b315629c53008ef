// A client sees only a fixed message, `upstream` and `retryAfter` (upstream text can echo the request).
import { ErrorCode } from '../errors/codes';
import { GatewayError, type UpstreamErrorInfo } from '../errors/GatewayError';
import { UPSTREAM_BAD_BODY, type UpstreamBodyError } from './parseJson';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** BREAKER_COUNTS's. `refused`: a 4xx but 429; `cancelled`: the operation went away; `local`: undici
 * refused our request. */
export type FailureKind = keyof typeof BREAKER_COUNTS;

export type Happened = Answered | Thrown;
type Answered = { readonly status: number; readonly headers: UpstreamHeaders; readonly body: string };
type Thrown = { readonly thrown: unknown; readonly status?: number; readonly requestId?: string };

export interface Failure {
  readonly kind: Exclude<FailureKind, 'answer'>;
  readonly error: GatewayError;
  readonly retry: boolean;
}

export type Classification = Failure | { readonly kind: 'not-found'; readonly upstream: UpstreamErrorInfo };

/** A 401 refuses the credentials; any other 4xx but 429 accepts them, a 403 denying one resource. */
export type CredentialVerdict = 'refused' | 'accepted' | 'denied';
const VERDICTS = new WeakMap<GatewayError, CredentialVerdict>();

export function credentialVerdictOf(error: unknown): CredentialVerdict | undefined {
  return error instanceof GatewayError ? VERDICTS.get(error) : undefined;
}

/** Terraform treats this one as "engine gone" even when it comes with HTTP 401. */
const ENGINE_GONE_CODE = 'SVCSTG.00501125';
// The upstream answers "this engine or job does not exist" with 400, not 404.
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['SVCSTG.00501116', ENGINE_GONE_CODE, 'SVCSTG.00501153']);
const MALFORMED_JOB_ID_CODE = 'SVCSTG.00501152';
const RETRY_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);
/** Code and message by upstream status; `retry-after`: the answer's Retry-After is passed on. */
const STATUS_FAILURES = new Map<number, readonly [ErrorCode, string, 'retry-after'?]>([
  [401, [ErrorCode.UNAUTHENTICATED, "The upstream refused the caller's token."]],
  [403, [ErrorCode.FORBIDDEN, "The caller's token may not access this project or resource."]],
  [429, [ErrorCode.RATE_LIMITED, 'The upstream is throttling requests; try again later.', 'retry-after']],
  [502, [ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable.']],
  [503, [ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable.', 'retry-after']],
  [504, [ErrorCode.UPSTREAM_TIMEOUT, 'The upstream did not answer in time.']],
]);

// A code or request id passes only short and plain: a misbehaving proxy may have put a token there.
const SAFE_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError']);
const UNREACHABLE_CODES = new Set([
  ...['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'],
  ...['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'],
]);
const LOCAL_CODES = new Set(
  ['UND_ERR_INVALID_ARG', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_URL'],
);

// Never throws (a body may be any dialect, HTML or garbage); a timeout spent its attempt's bound.
export function classifyFailure(happened: Thrown): Failure;
export function classifyFailure(happened: Happened, now?: number): Classification;
export function classifyFailure(happened: Happened, now: number = Date.now()): Classification {
  if ('thrown' in happened) return classifyThrown(happened.thrown, happened.status, happened.requestId);
  return classifyStatus(happened, now);
}

/** A wait's rejection (its caller gone, its time out) as the coded error it stands for. */
export function throwClassified(reason: unknown): never {
  throw classifyFailure({ thrown: reason }).error;
}

function classifyStatus({ status, headers, body }: Answered, now: number): Classification {
  const fields = readErrorBody(body);
  const upstream: UpstreamErrorInfo = { status };
  if (fields.code !== undefined) upstream.code = fields.code;
  const requestId = upstreamRequestId(headers) ?? fields.requestId;
  if (requestId !== undefined) upstream.requestId = requestId;
  const fail = (code: ErrorCode, message: string, retryAfter?: number): Failure => {
    const error = new GatewayError(code, message, { upstream, retryAfter });
    const kind = kindOfStatus(status);
    if (kind === 'refused') {
      VERDICTS.set(error, status === 401 ? 'refused' : status === 403 ? 'denied' : 'accepted');
    }
    return { kind, error, retry: status === 429 || RETRY_STATUSES.has(status) };
  };

  const later = () => retryAfterSeconds(headers, now);
  const code = fields.code;
  if (code !== undefined) {
    if ((status === 400 || status === 404) && NOT_FOUND_CODES.has(code)) return { kind: 'not-found', upstream };
    if (status === 401 && code === ENGINE_GONE_CODE) return { kind: 'not-found', upstream };
    if (status === 400 && code === MALFORMED_JOB_ID_CODE) {
      return fail(ErrorCode.BAD_USER_INPUT, 'The upstream refused the job id as malformed.');
    }
  }
  const known = STATUS_FAILURES.get(status);
  if (known !== undefined) return fail(known[0], known[1], known[2] === 'retry-after' ? later() : undefined);
  if (Number.isInteger(status) && status >= 400 && status <= 599) {
    return fail(ErrorCode.UPSTREAM_ERROR, 'The upstream answered with an error.');
  }
  return fail(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answered with an unexpected HTTP status.');
}

function kindOfStatus(status: number): Failure['kind'] {
  if (status === 429) return 'throttled';
  if (status >= 500 && status <= 599) return 'server';
  if (status >= 400 && status <= 499) return 'refused';
  return 'bad-response';
}

function classifyThrown(err: unknown, status: number | undefined, requestId: string | undefined): Failure {
  const failure = (kind: Failure['kind'], code: ErrorCode, message: string, retry = false): Failure =>
    ({ kind, error: new GatewayError(code, message, { cause: err }), retry });
  if (err instanceof GatewayError) return { kind: 'cancelled', error: err, retry: false };
  const code = codeOf(err);
  if (code === UPSTREAM_BAD_BODY) {
    const upstream = status === undefined ? undefined : { status, requestId };
    const message = 'The upstream answered with a body the gateway could not read.';
    const error = new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, message, { cause: err, upstream });
    return { kind: (err as UpstreamBodyError).outsized ? 'outsized' : 'bad-response', error, retry: false };
  }
  if (code !== undefined && LOCAL_CODES.has(code)) {
    return failure('local', ErrorCode.INTERNAL_SERVER_ERROR, 'The gateway could not send the upstream request.');
  }
  const related = relatedErrors(err);
  if (related.some((e) => TIMEOUT_CODES.has(codeOf(e) ?? '') || TIMEOUT_NAMES.has(codeOf(e, 'name') ?? ''))) {
    return failure('timeout', ErrorCode.UPSTREAM_TIMEOUT, 'The upstream did not answer in time.');
  }
  if (related.some((e) => UNREACHABLE_CODES.has(codeOf(e) ?? ''))) {
    return failure('connection', ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream could not be reached.', true);
  }
  // Unrecognised: the wording and the cause tell the log apart.
  return failure('connection', ErrorCode.UPSTREAM_UNAVAILABLE, 'The call to the upstream failed.', true);
}

// A failure (true), a success (false) or not counted. A 429 throttles one caller, not a breaker
// others share; an unreadable 200 does not prove the upstream reachable (a proxy's login page).
type BreakerCount = { readonly engine: boolean | undefined; readonly upstream: boolean | undefined };

export const BREAKER_COUNTS = {
  answer: { engine: false, upstream: false },
  refused: { engine: false, upstream: false },
  throttled: { engine: undefined, upstream: false },
  server: { engine: true, upstream: false },
  'bad-response': { engine: true, upstream: true },
  // A body larger or deeper than the gateway reads: the caller's page size chose it, and the upstream answered.
  outsized: { engine: false, upstream: false },
  connection: { engine: true, upstream: true },
  timeout: { engine: true, upstream: true },
  cancelled: { engine: undefined, upstream: undefined },
  local: { engine: undefined, upstream: undefined },
} as const satisfies Readonly<Record<string, BreakerCount>>;

export function circuitOpenError(scope: 'upstream' | 'engine', retryAfterMs: number): GatewayError {
  const message = scope === 'engine'
    ? 'The upstream keeps failing for this engine; the gateway is not calling it for a moment.'
    : 'The upstream cannot be reached; the gateway is not calling it for a moment.';
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, message, {
    retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    details: { reason: 'CIRCUIT_OPEN' },
  });
}

export function overloadedError(): GatewayError {
  const message = 'The gateway is overloaded: too many upstream calls are waiting. Try again shortly.';
  const details = { reason: 'OVERLOADED' };
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, message, { retryAfter: 1, details });
}

/**
 * A successful answer larger than the room its operation could hold for it (AnswerRoom): not read on. Its
 * operation asks again once it has room for `bytes` (`announced`: its Content-Length, else what was read).
 * The upstream answered, and accepted the credentials: no breaker counts it.
 */
export class AnswerOutgrewRoom extends GatewayError {
  constructor(readonly bytes: number, readonly announced: boolean) {
    const message = 'The gateway is overloaded: too many large answers are being made. Try again shortly.';
    super(ErrorCode.UPSTREAM_UNAVAILABLE, message, { retryAfter: 1, details: { reason: 'OVERLOADED' } });
    VERDICTS.set(this, 'accepted');
  }
}

function readErrorBody(bodyText: string): { code?: string | undefined; requestId?: string | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return {};
  }
  const body: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const record = body as Record<string, unknown>;
  return {
    code: firstSafe(record.error_code, record.errorCode, record.code),
    requestId: firstSafe(record.request_id, record.requestId),
  };
}

function firstSafe(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    const text = typeof candidate === 'number' && Number.isSafeInteger(candidate) ? String(candidate) : candidate;
    const value = safeToken(text);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The answer's `X-Request-Id`, if short and plain: whatever the status, no other reaches a caller. */
export function upstreamRequestId(headers: UpstreamHeaders): string | undefined {
  return safeToken(header(headers, 'x-request-id'));
}

function safeToken(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_TOKEN.test(value) ? value : undefined;
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  // undici lower-cases names; a hand-built record may not.
  const key = name in headers ? name : Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** In seconds: a proxy's 99999999999 must not lock a caller out. */
export const MAX_RETRY_AFTER_S = 300;

/** RFC 9110 §10.2.3. */
function retryAfterSeconds(headers: UpstreamHeaders, now: number): number | undefined {
  const raw = header(headers, 'retry-after')?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Math.min(Number(raw), MAX_RETRY_AFTER_S);
  if (!IMF_FIXDATE.test(raw) && !RFC850_DATE.test(raw) && !ASCTIME_DATE.test(raw)) return undefined;
  const at = Date.parse(raw.endsWith('GMT') ? raw : `${raw} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(0, Math.ceil((at - now) / 1000)));
}

/** Causes (fetch wraps in a TypeError) and AggregateError's (happy eyeballs), bounded against cycles. */
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

function codeOf(err: unknown, property: 'code' | 'name' = 'code'): string | undefined {
  const value = typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[property] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** What `AbortSignal.timeout` gives, which classifyFailure reads as a timeout. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** An abort for the time being up ({@link timeoutReason}, AbortSignal.timeout), not for the caller leaving. */
export function isTimeoutReason(reason: unknown): boolean {
  return (reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
}
