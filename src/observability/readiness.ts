import type { UpstreamEvents } from './events';

export type ReadinessState =
  | { ready: true }
  | { ready: false; reason: 'starting' | 'shutting-down' | 'upstream-breaker-open' };

/**
 * Whether this instance should be sent traffic: not until it listens, never again once shutdown
 * begins, and not while the whole-upstream circuit breaker is open (every operation would fail
 * fast with UPSTREAM_UNAVAILABLE, so a load balancer should prefer another instance). A half-open
 * breaker counts as ready: its probe needs traffic to close it.
 */
export class Readiness {
  private phase: 'starting' | 'serving' | 'shutting-down' = 'starting';
  private upstreamOpen = false;

  /** Listens for breaker changes of the whole upstream (per-engine breakers do not matter here). */
  readonly events: UpstreamEvents = {
    breaker: (event) => {
      if (event.scope === 'upstream') this.upstreamOpen = event.state === 'open';
    },
  };

  markServing(): void {
    if (this.phase === 'starting') this.phase = 'serving';
  }

  markShuttingDown(): void {
    this.phase = 'shutting-down';
  }

  get state(): ReadinessState {
    if (this.phase !== 'serving') return { ready: false, reason: this.phase };
    return this.upstreamOpen ? { ready: false, reason: 'upstream-breaker-open' } : { ready: true };
  }
}
