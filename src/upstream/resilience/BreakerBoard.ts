import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../../errors/codes';
import { GatewayError, type UpstreamErrorInfo } from '../../errors/GatewayError';
import type { UpstreamEvents } from '../../observability/events';
import { CircuitBreaker, type BreakerState, type Permit } from './CircuitBreaker';
import { BREAKER_COUNTS, type FailureKind } from '../errorMapping';

export interface BreakerBoardOptions {
  /** Consecutive failures that open an engine's breaker, and the whole upstream's. */
  readonly engineFailures: number;
  readonly upstreamFailures: number;
  readonly openMs: number;
  /** Throttled callers and engines remembered at once (least recently used are forgotten). */
  readonly maxThrottled?: number;
  readonly now?: () => number;
}

/** The permits one attempt holds: always the upstream's, and its engine's on engine routes. */
export interface Admission {
  readonly upstream: Permit;
  readonly engine: { readonly breaker: CircuitBreaker; readonly permit: Permit } | undefined;
}

export type Refusal = { readonly scope: 'upstream' | 'engine'; readonly retryAfterMs: number };

interface Throttle {
  readonly until: number;
  readonly error: GatewayError;
}

/**
 * One breaker for the whole upstream and one per engine (counting as BREAKER_COUNTS says), so one
 * engine that keeps failing is cut off while the healthy ones still answer. Engine breakers are
 * made on first failure and forgotten when closed and clean again, or by the LRU bound.
 *
 * Beside them, the upstream's 429s ({@link throttle}): a 429 trips no breaker, but its
 * `Retry-After` is honoured for that caller and engine alone.
 */
export class BreakerBoard {
  private readonly upstream: CircuitBreaker;
  private readonly engines: LRUCache<string, CircuitBreaker>;
  /** `<scope digest> <engine key or "">` → the 429 it is waiting out. */
  private readonly throttles: LRUCache<string, Throttle>;
  private readonly now: () => number;
  /** Where state changes go; set per admission so the operation that saw the change hears of it. */
  private listeners: UpstreamEvents | undefined;

  constructor(private readonly options: BreakerBoardOptions) {
    this.upstream = new CircuitBreaker(
      { failureThreshold: options.upstreamFailures, openMs: options.openMs, now: options.now },
      (state) => this.announce('upstream', state),
    );
    this.engines = new LRUCache({ max: 10_000 });
    this.throttles = new LRUCache({ max: options.maxThrottled ?? 10_000 });
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Remembers a 429's `Retry-After` for the calls of one scope (`digest`) to one engine (none: the
   * engine list): until it has passed, {@link throttled} answers them at once.
   */
  throttle(digest: string, engineKey: string | undefined, error: GatewayError): void {
    const seconds = error.extensions.retryAfter;
    if (typeof seconds !== 'number' || !(seconds > 0)) return;
    this.throttles.set(throttleKey(digest, engineKey), { until: this.now() + seconds * 1000, error });
  }

  /** RATE_LIMITED with the seconds left, while a 429 for the scope and engine is waited out. */
  throttled(digest: string, engineKey: string | undefined): GatewayError | undefined {
    if (this.throttles.size === 0) return undefined;
    const key = throttleKey(digest, engineKey);
    const throttle = this.throttles.get(key);
    if (throttle === undefined) return undefined;
    const leftMs = throttle.until - this.now();
    if (leftMs <= 0) {
      this.throttles.delete(key);
      return undefined;
    }
    const { error } = throttle;
    return new GatewayError(ErrorCode.RATE_LIMITED, error.message, {
      upstream: error.extensions.upstream as UpstreamErrorInfo | undefined,
      retryAfter: Math.ceil(leftMs / 1000),
    });
  }

  /** Throttled callers and engines remembered (tests: the memory stays bounded). */
  get trackedThrottles(): number {
    return this.throttles.size;
  }

  /** Leave of both breakers for one attempt; an admission goes back to {@link settle}, whatever happened. */
  admit(engineKey: string | undefined, events: UpstreamEvents): Admission | Refusal {
    this.listeners = events;
    try {
      const engineBreaker = engineKey === undefined ? undefined : this.engines.get(engineKey);
      // The engine is asked first: an open engine breaker must not take the upstream's probe.
      const enginePermit = engineBreaker?.admit();
      if (enginePermit !== undefined && !enginePermit.allowed) return { scope: 'engine', retryAfterMs: enginePermit.retryAfterMs };
      const upstream = this.upstream.admit();
      if (!upstream.allowed) {
        if (engineBreaker !== undefined && enginePermit !== undefined) engineBreaker.record(enginePermit, undefined);
        return { scope: 'upstream', retryAfterMs: upstream.retryAfterMs };
      }
      if (engineKey === undefined) return { upstream, engine: undefined };
      if (engineBreaker !== undefined && enginePermit !== undefined) return { upstream, engine: { breaker: engineBreaker, permit: enginePermit } };
      // No breaker yet (the healthy case): a fresh one, stored only once it has something to remember.
      const breaker = this.engineBreaker();
      return { upstream, engine: { breaker, permit: breaker.admit() } };
    } finally {
      this.listeners = undefined;
    }
  }

  /** What {@link admit} would refuse now, without taking a permit (before an attempt queues). */
  peek(engineKey: string | undefined): Refusal | undefined {
    const engine = engineKey === undefined ? undefined : this.engines.peek(engineKey)?.wouldRefuse();
    if (engine !== undefined) return { scope: 'engine', retryAfterMs: engine };
    const upstream = this.upstream.wouldRefuse();
    return upstream === undefined ? undefined : { scope: 'upstream', retryAfterMs: upstream };
  }

  /** Reports what the admitted attempt showed to both breakers. */
  settle(engineKey: string | undefined, admission: Admission, kind: FailureKind, events: UpstreamEvents): void {
    this.listeners = events;
    try {
      this.upstream.record(admission.upstream, BREAKER_COUNTS[kind].upstream);
      if (admission.engine === undefined || engineKey === undefined) return;
      const { breaker, permit } = admission.engine;
      const stored = this.engines.get(engineKey);
      if (stored !== undefined && stored !== breaker) {
        // A fresh breaker raced with one stored meanwhile: count on the stored one.
        stored.record({ allowed: true, probe: false }, BREAKER_COUNTS[kind].engine);
        if (stored.idle) this.engines.delete(engineKey);
        return;
      }
      breaker.record(permit, BREAKER_COUNTS[kind].engine);
      if (breaker.idle) {
        if (stored !== undefined) this.engines.delete(engineKey);
      } else if (stored === undefined) {
        this.engines.set(engineKey, breaker);
      }
    } finally {
      this.listeners = undefined;
    }
  }

  /** Number of engines with a breaker that is open, half-open or counting failures. */
  get trackedEngines(): number {
    return this.engines.size;
  }

  private engineBreaker(): CircuitBreaker {
    return new CircuitBreaker(
      { failureThreshold: this.options.engineFailures, openMs: this.options.openMs, now: this.options.now },
      (state) => this.announce('engine', state),
    );
  }

  private announce(scope: 'upstream' | 'engine', state: BreakerState): void {
    this.listeners?.breaker?.({ scope, state });
  }
}

function throttleKey(digest: string, engineKey: string | undefined): string {
  return `${digest} ${engineKey ?? ''}`;
}

export function isRefusal(value: Admission | Refusal): value is Refusal {
  return 'scope' in value;
}
