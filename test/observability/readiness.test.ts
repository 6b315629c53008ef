import { Readiness } from '../../src/observability/readiness';

type Step = 'serving' | 'shutting-down' | 'upstream-open' | 'upstream-half-open' | 'upstream-closed' | 'engine-open';

function apply(readiness: Readiness, step: Step): void {
  switch (step) {
    case 'serving':
      return readiness.markServing();
    case 'shutting-down':
      return readiness.markShuttingDown();
    case 'upstream-open':
      return readiness.events.breaker!({ scope: 'upstream', state: 'open' });
    case 'upstream-half-open':
      return readiness.events.breaker!({ scope: 'upstream', state: 'half-open' });
    case 'upstream-closed':
      return readiness.events.breaker!({ scope: 'upstream', state: 'closed' });
    case 'engine-open':
      return readiness.events.breaker!({ scope: 'engine', state: 'open' });
  }
}

describe('Readiness', () => {
  it.each<[Step[], ReturnType<() => Readiness['state']>]>([
    [[], { ready: false, reason: 'starting' }],
    [['upstream-open'], { ready: false, reason: 'starting' }],
    [['serving'], { ready: true }],
    [['serving', 'upstream-open'], { ready: false, reason: 'upstream-breaker-open' }],
    [['serving', 'upstream-open', 'upstream-half-open'], { ready: true }],
    [['serving', 'upstream-open', 'upstream-closed'], { ready: true }],
    [['serving', 'engine-open'], { ready: true }],
    [['serving', 'shutting-down'], { ready: false, reason: 'shutting-down' }],
    [['serving', 'upstream-open', 'shutting-down'], { ready: false, reason: 'shutting-down' }],
    [['serving', 'shutting-down', 'serving'], { ready: false, reason: 'shutting-down' }],
  ])('after %j: %j', (steps, expected) => {
    const readiness = new Readiness();
    for (const step of steps) apply(readiness, step);
    expect(readiness.state).toEqual(expected);
  });
});
