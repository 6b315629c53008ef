import { LRUCache } from 'lru-cache';
import type { UpstreamEvents } from '../../observability/events';
import { CircuitBreaker, type BreakerState, type Permit } from './CircuitBreaker';
import { countsForEngine, countsForUpstream, type FailureKind } from './failureKind';

export interface BreakerBoardOptions {
  /** Consecutive failed attempts against one engine that open its breaker. */
  readonly engineFailures: number;
  /** Consecutive transport failures that open the breaker of the whole upstream. */
  readonly upstreamFailures: number;
  readonly openMs: number;
  /** Engines whose breaker state is remembered at once (least recently used are forgotten). */
  readonly maxEngines?: number;
  readonly now?: () => number;
}

/** The permits one attempt holds: always the upstream's, and its engine's on engine routes. */
export interface Admission {
  readonly upstream: Permit;
  readonly engine: { readonly breaker: CircuitBreaker; readonly permit: Permit } | undefined;
}

export type Refusal = { readonly scope: 'upstream' | 'engine'; readonly retryAfterMs: number };

/**
 * The breakers: one for the whole upstream, which transport failures and unreadable 2xx bodies
 * trip (an upstream that answers an HTTP error is reachable; see countsForUpstream), and one per
 * engine, which upstream-side failures of that engine trip — so one engine that keeps failing is
 * cut off while the healthy ones still answer.
 *
 * Engine breakers are made on first failure and forgotten when they are closed and clean again,
 * or when the LRU bound pushes them out; memory stays bounded by `maxEngines`.
 */
export class BreakerBoard {
  private readonly upstream: CircuitBreaker;
  private readonly engines: LRUCache<string, CircuitBreaker>;
  /** Where state changes go; set per admission so the operation that saw the change hears of it. */
  private listeners: UpstreamEvents | undefined;

  constructor(private readonly options: BreakerBoardOptions) {
    this.upstream = new CircuitBreaker(
      { failureThreshold: options.upstreamFailures, openMs: options.openMs, now: options.now },
      (state) => this.announce('upstream', state),
    );
    this.engines = new LRUCache({ max: options.maxEngines ?? 10_000 });
  }

  /**
   * Asks both breakers for leave to make one attempt. A refusal takes no permit; an admission
   * must be handed back to {@link settle}, whatever happened.
   */
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
      // No breaker yet (the common, healthy case): a fresh one, closed, admits everything. It is
      // stored only once it has something to remember (see settle).
      const breaker = this.engineBreaker();
      return { upstream, engine: { breaker, permit: breaker.admit() } };
    } finally {
      this.listeners = undefined;
    }
  }

  /**
   * What {@link admit} would answer now when it would refuse, without taking a permit: asked before
   * an attempt waits for an in-flight slot, so calls to an open breaker do not take places in the
   * queue. The admission itself comes once the slot is held.
   */
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
      this.upstream.record(admission.upstream, countsForUpstream(kind));
      if (admission.engine === undefined || engineKey === undefined) return;
      const { breaker, permit } = admission.engine;
      const stored = this.engines.get(engineKey);
      if (stored !== undefined && stored !== breaker) {
        // A fresh breaker raced with one another attempt stored meanwhile: count on the stored
        // one, as an ordinary call, so no failure is lost.
        stored.record({ allowed: true, probe: false }, countsForEngine(kind));
        if (stored.idle) this.engines.delete(engineKey);
        return;
      }
      breaker.record(permit, countsForEngine(kind));
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

export function isRefusal(value: Admission | Refusal): value is Refusal {
  return 'scope' in value;
}
