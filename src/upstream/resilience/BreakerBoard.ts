import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../../errors/codes';
import { GatewayError, type UpstreamErrorInfo } from '../../errors/GatewayError';
import type { UpstreamEvents } from '../../observability/events';
import { BREAKER_COUNTS, circuitOpenError, type FailureKind } from '../errorMapping';
import type { AttemptStage } from '../stages/types';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly now?: () => number;
}

export type Permit =
  | { readonly allowed: true; readonly probe: boolean }
  | { readonly allowed: false; readonly retryAfterMs: number };

const ADMITTED: Permit = Object.freeze({ allowed: true, probe: false });
const PROBE: Permit = Object.freeze({ allowed: true, probe: true });

// Results of calls that started before the state changed are ignored: late answers cannot flip it.
// Not opossum: thousands of short-lived per-engine breakers an LRU drops silently, without timers.
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  admit(): Permit {
    const refused = this.wouldRefuse();
    if (refused !== undefined) return { allowed: false, retryAfterMs: refused };
    if (this.current === 'closed') return ADMITTED;
    this.transition('half-open');
    this.probing = true;
    return PROBE;
  }

  /** How long until {@link admit} would let a call through; `undefined`: now. */
  wouldRefuse(): number | undefined {
    if (this.current === 'open') {
      const waited = this.now() - this.openedAt;
      return waited < this.options.openMs ? this.options.openMs - waited : undefined;
    }
    return this.current === 'half-open' && this.probing ? 0 : undefined;
  }

  /** `undefined`: the call showed nothing (a probe then frees its place). */
  record(permit: Permit, failed: boolean | undefined): void {
    if (!permit.allowed) return;
    if (permit.probe) {
      if (this.current !== 'half-open') return;
      this.probing = false;
      if (failed === true) this.open();
      else if (failed === false) this.transition('closed');
      return;
    }
    if (this.current !== 'closed' || failed === undefined) return;
    this.failures = failed ? this.failures + 1 : 0;
    if (this.failures >= this.options.failureThreshold) this.open();
  }

  get idle(): boolean {
    return this.current === 'closed' && this.failures === 0;
  }

  private open(): void {
    this.openedAt = this.now();
    this.failures = 0;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    this.onChange(state);
  }
}

export interface BreakerBoardOptions {
  readonly engineBreakerFailures: number;
  readonly upstreamBreakerFailures: number;
  readonly breakerOpenMs: number;
  readonly maxThrottled?: number;
  readonly now?: () => number;
}

export interface Admission {
  readonly upstream: Permit;
  readonly engine: { readonly breaker: CircuitBreaker; readonly permit: Permit } | undefined;
}

export type Refusal = { readonly scope: 'upstream' | 'engine'; readonly retryAfterMs: number };

/** Engine breakers are made on a first failure and forgotten when clean; a 429 waits per caller. */
export class BreakerBoard {
  private readonly upstream: CircuitBreaker;
  private readonly engines = new LRUCache<string, CircuitBreaker>({ max: 10_000 });
  /** `<scope digest> <engine key or "">` → the 429 it is waiting out. */
  private readonly throttles: LRUCache<string, { readonly until: number; readonly error: GatewayError }>;
  private readonly now: () => number;
  /** Set per admission, so the operation that saw a state change hears of it. */
  private listeners: UpstreamEvents | undefined;

  constructor(private readonly options: BreakerBoardOptions) {
    this.upstream = this.breaker('upstream', options.upstreamBreakerFailures);
    this.throttles = new LRUCache({ max: options.maxThrottled ?? 10_000 });
    this.now = options.now ?? (() => performance.now());
  }

  throttle(digest: string, engineKey: string | undefined, error: GatewayError): void {
    const seconds = error.extensions.retryAfter;
    if (typeof seconds !== 'number' || !(seconds > 0)) return;
    this.throttles.set(`${digest} ${engineKey ?? ''}`, { until: this.now() + seconds * 1000, error });
  }

  throttled(digest: string, engineKey: string | undefined): GatewayError | undefined {
    if (this.throttles.size === 0) return undefined;
    const key = `${digest} ${engineKey ?? ''}`;
    const throttle = this.throttles.get(key);
    if (throttle === undefined) return undefined;
    const leftMs = throttle.until - this.now();
    if (leftMs <= 0) {
      this.throttles.delete(key);
      return undefined;
    }
    const upstream = throttle.error.extensions.upstream as UpstreamErrorInfo | undefined;
    const retryAfter = Math.ceil(leftMs / 1000);
    return new GatewayError(ErrorCode.RATE_LIMITED, throttle.error.message, { upstream, retryAfter });
  }

  /** An admission goes back to {@link settle}, whatever happened. */
  admit(engineKey: string | undefined, events: UpstreamEvents): Admission | Refusal {
    this.listeners = events;
    try {
      const stored = engineKey === undefined ? undefined : this.engines.get(engineKey);
      // The engine is asked first: an open engine breaker must not take the upstream's probe.
      const storedPermit = stored?.admit();
      if (storedPermit?.allowed === false) return { scope: 'engine', retryAfterMs: storedPermit.retryAfterMs };
      const upstream = this.upstream.admit();
      if (!upstream.allowed) {
        if (storedPermit !== undefined) stored!.record(storedPermit, undefined);
        return { scope: 'upstream', retryAfterMs: upstream.retryAfterMs };
      }
      return { upstream, engine: stored && { breaker: stored, permit: storedPermit! } };
    } finally {
      this.listeners = undefined;
    }
  }

  peek(engineKey: string | undefined): Refusal | undefined {
    const engine = engineKey === undefined ? undefined : this.engines.peek(engineKey)?.wouldRefuse();
    if (engine !== undefined) return { scope: 'engine', retryAfterMs: engine };
    const upstream = this.upstream.wouldRefuse();
    return upstream === undefined ? undefined : { scope: 'upstream', retryAfterMs: upstream };
  }

  /** `stranger`: credentials never accepted. Of theirs only a failure to connect shows, which no token
   * chooses (a replica fresh from a restart knows no caller yet): not a made-up token's 401, nor the 500
   * or the wait an upstream may answer it with, which would open the breakers of callers it serves. */
  settle(
    engineKey: string | undefined,
    admission: Admission,
    kind: FailureKind,
    events: UpstreamEvents,
    stranger = false,
  ) {
    this.listeners = events;
    const shown = (failed: boolean | undefined) => (stranger && kind !== 'connection' ? undefined : failed);
    try {
      this.upstream.record(admission.upstream, shown(BREAKER_COUNTS[kind].upstream));
      if (engineKey === undefined) return;
      const { engine } = admission;
      const failed = shown(BREAKER_COUNTS[kind].engine);
      const stored = this.engines.get(engineKey);
      // Counted on a breaker stored meanwhile, if any; one is made for a failure, not per healthy call.
      const own = engine !== undefined && (stored === undefined || stored === engine.breaker);
      if (!own && stored === undefined && failed !== true) return;
      let breaker = own ? engine.breaker : stored;
      breaker ??= this.breaker('engine', this.options.engineBreakerFailures);
      breaker.record(own ? engine.permit : ADMITTED, failed);
      if (breaker.idle && stored !== undefined) this.engines.delete(engineKey);
      else if (!breaker.idle && stored === undefined) this.engines.set(engineKey, breaker);
    } finally {
      this.listeners = undefined;
    }
  }

  /** Before the in-flight queue, so a failing engine's calls do not fill it; retries wait out a 429. */
  checkStage(): AttemptStage {
    return (next) => (attempt) => {
      const throttled = attempt.attempt === 0 ? this.throttled(attempt.digest, attempt.engineKey) : undefined;
      if (throttled !== undefined) return Promise.reject(throttled);
      const refusal = this.peek(attempt.engineKey);
      if (refusal === undefined) return next(attempt);
      return Promise.reject(circuitOpenError(refusal.scope, refusal.retryAfterMs));
    };
  }

  /** Inside the in-flight slot, so what the attempt showed is counted before the slot is handed on. */
  stage(): AttemptStage {
    return (next) => async (attempt) => {
      const admission = this.admit(attempt.engineKey, attempt.events);
      if ('scope' in admission) throw circuitOpenError(admission.scope, admission.retryAfterMs);
      try {
        const result = await next(attempt);
        const kind = result.ok ? 'answer' : result.kind;
        this.settle(attempt.engineKey, admission, kind, attempt.events, attempt.stranger);
        if (!result.ok && result.kind === 'throttled') {
          this.throttle(attempt.digest, attempt.engineKey, result.error);
        }
        return result;
      } catch (error) {
        this.settle(attempt.engineKey, admission, 'cancelled', attempt.events);
        throw error;
      }
    };
  }

  private breaker(scope: 'upstream' | 'engine', failureThreshold: number): CircuitBreaker {
    const { breakerOpenMs: openMs, now } = this.options;
    const announce = (state: BreakerState) => this.listeners?.breaker?.({ scope, state });
    return new CircuitBreaker({ failureThreshold, openMs, now }, announce);
  }
}
