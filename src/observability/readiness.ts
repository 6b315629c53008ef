import type { UpstreamEvents } from './events';

export type ReadinessState =
  | { ready: true }
  | { ready: false; reason: 'starting' | 'shutting-down' | 'upstream-breaker-open' };

/** Not ready until it listens, once shutdown begins, or while the whole-upstream breaker is open (every
 * operation would fail fast); half-open is ready: its probe needs traffic to close it. */
export class Readiness {
  private phase: 'starting' | 'serving' | 'shutting-down' = 'starting';
  private upstreamOpen = false;

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
