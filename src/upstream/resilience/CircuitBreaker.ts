export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly openMs: number;
  /** Monotonic milliseconds; injected by tests. */
  readonly now?: () => number;
}

/** Leave to make one call; hand it back with what the call showed. */
export type Permit = { readonly allowed: true; readonly probe: boolean } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * A consecutive-failures circuit breaker: closed → (threshold failures in a row) → open →
 * (`openMs` later) → half-open, where one call, the probe, goes through; its success closes the
 * breaker, its failure opens it again. Results of calls that started before the state changed are
 * ignored, so a burst of late answers cannot flip the state. Not opossum: we need thousands of
 * short-lived per-engine breakers an LRU drops silently, without a timer each.
 */
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

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may go now. In half-open only one call (the probe) is let through at a time. */
  admit(): Permit {
    if (this.current === 'open') {
      const waited = this.now() - this.openedAt;
      if (waited < this.options.openMs) return { allowed: false, retryAfterMs: this.options.openMs - waited };
      this.transition('half-open');
    }
    if (this.current === 'half-open') {
      if (this.probing) return { allowed: false, retryAfterMs: 0 };
      this.probing = true;
      return { allowed: true, probe: true };
    }
    return { allowed: true, probe: false };
  }

  /** How long until {@link admit} would let a call through; `undefined` when it would now. Only a look. */
  wouldRefuse(): number | undefined {
    if (this.current === 'open') {
      const waited = this.now() - this.openedAt;
      return waited < this.options.openMs ? this.options.openMs - waited : undefined;
    }
    return this.current === 'half-open' && this.probing ? 0 : undefined;
  }

  /** What the admitted call showed: a failure, a success, or nothing (a probe then frees its place). */
  record(permit: Permit, failed: boolean | undefined): void {
    if (!permit.allowed) return;
    if (permit.probe) {
      if (this.current !== 'half-open') return;
      this.probing = false;
      if (failed === true) this.open();
      else if (failed === false) this.close();
      return;
    }
    if (this.current !== 'closed' || failed === undefined) return;
    if (!failed) {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    if (this.failures >= this.options.failureThreshold) this.open();
  }

  /** Closed with no failures counted: nothing worth remembering. */
  get idle(): boolean {
    return this.current === 'closed' && this.failures === 0;
  }

  private open(): void {
    this.openedAt = this.now();
    this.failures = 0;
    this.transition('open');
  }

  private close(): void {
    this.failures = 0;
    this.transition('closed');
  }

  private transition(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    this.onChange(state);
  }
}
