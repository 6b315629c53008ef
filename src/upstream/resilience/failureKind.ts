/**
 * What one upstream attempt told us about the upstream's health. Retries and both circuit
 * breakers decide from this one classification, so they can never disagree about what a
 * "failure" is.
 *
 * | kind | when |
 * |---|---|
 * | `answer` | 2xx, or the upstream's "not found" |
 * | `refused` | any other 4xx except 429: the caller's problem (401, 403, 400 …); the upstream is healthy |
 * | `throttled` | 429 |
 * | `server` | 5xx |
 * | `bad-response` | 2xx with an unreadable body, or a status outside 2xx/4xx/5xx |
 * | `connection` | refused, reset or dropped connection: no usable answer |
 * | `timeout` | the attempt's own time bound (`CSE_TIMEOUT_MS`, undici's timeouts) ran out |
 * | `cancelled` | the operation went away (caller gone, operation deadline): says nothing about the upstream |
 * | `local` | the gateway could not send the request as it built it (undici refused its arguments): a gateway bug, nothing about the upstream |
 */
export type FailureKind = 'answer' | 'refused' | 'throttled' | 'server' | 'bad-response' | 'connection' | 'timeout' | 'cancelled' | 'local';

/** The kind of an HTTP answer that is not a success (or a success whose body could not be read). */
export function failureOfStatus(status: number): FailureKind {
  if (status === 429) return 'throttled';
  if (status >= 500 && status <= 599) return 'server';
  if (status >= 400 && status <= 499) return 'refused';
  return 'bad-response';
}

/**
 * Whether an engine's breaker counts this attempt as a failure (`true`), a success (`false`), or
 * not at all (`undefined`).
 *
 * A 429 is neither: the upstream throttles per caller (the API gateway in front of CSE rates
 * tokens), so one noisy token must not open a breaker that every other caller of that engine
 * shares; and it is no proof of health either. 4xx answers are successes: the engine answered.
 */
export function countsForEngine(kind: FailureKind): boolean | undefined {
  switch (kind) {
    case 'answer':
    case 'refused':
      return false;
    case 'server':
    case 'bad-response':
    case 'connection':
    case 'timeout':
      return true;
    case 'throttled':
    case 'cancelled':
    case 'local':
      return undefined;
  }
}

/**
 * The same question for the breaker of the whole upstream: transport failures (no answer at all,
 * or none in time) count, because an HTTP error of any status proves the upstream is reachable,
 * and a 5xx from one engine must not cut off the healthy ones. A 2xx whose body cannot be read
 * counts too: it proves nothing of the kind — a proxy in front of the upstream answering with its
 * HTML login page says 200 to every route, the engine list (which has no engine breaker) included.
 */
export function countsForUpstream(kind: FailureKind): boolean | undefined {
  switch (kind) {
    case 'connection':
    case 'timeout':
    case 'bad-response':
      return true;
    case 'cancelled':
    case 'local':
      return undefined;
    default:
      return false;
  }
}
