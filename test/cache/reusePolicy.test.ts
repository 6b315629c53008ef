import { GatewayError } from '../../src/errors/GatewayError';
import { shareVerdict, storeVerdict } from '../../src/cache/reusePolicy';
import type { UpstreamEvents } from '../../src/observability/events';
import { OperationFacts } from '../../src/observability/OperationFacts';

/** Whether a whole answer may be kept or shared is read from the operation's facts, nothing else. */

function facts(record: (facts: OperationFacts) => void = () => {}): OperationFacts {
  const made = new OperationFacts();
  made.operationResolved('Page', 'query');
  record(made);
  return made;
}

/** The facts of one operation, fed by its upstream events. */
function reuseOf(record: (facts: OperationFacts, events: UpstreamEvents) => void): OperationFacts {
  return facts((f) => record(f, f.events));
}

describe('storeVerdict', () => {
  it.each([
    ['a clean answer', () => {}, { operationName: 'Page' }],
    ['an operation that saw a "not found"', (f: OperationFacts) => void (f.notFound = true), undefined],
    ['an answer built from an upstream cache entry that does not say how long it has left', (_f: OperationFacts, events: UpstreamEvents) => events.cache!({ route: 'getEngine', hit: true }), undefined],
    [
      'an answer built from upstream cache entries: kept no longer than the shortest-lived had left',
      (_f: OperationFacts, events: UpstreamEvents) => {
        events.cache!({ route: 'getEngine', hit: true, ttlLeftMs: 4000 });
        events.cache!({ route: 'listJobs', hit: true, ttlLeftMs: 1500.7 });
      },
      { operationName: 'Page', maxKeepMs: 1500 },
    ],
    ['an answer built from an entry about to expire', (_f: OperationFacts, events: UpstreamEvents) => events.cache!({ route: 'getEngine', hit: true, ttlLeftMs: 0.5 }), undefined],
    ['an upstream cache miss does not count', (_f: OperationFacts, events: UpstreamEvents) => events.cache!({ route: 'getEngine', hit: false }), { operationName: 'Page' }],
  ])('%s', (_what, record, expected) => {
    expect(storeVerdict(reuseOf(record))).toEqual(expected);
  });
});

describe('shareVerdict', () => {
  it.each([
    ['an answer without errors', () => {}, { operationName: 'Page', credentialsAccepted: false }],
    ['an answer with any error', (f: OperationFacts) => f.recordErrors([new GatewayError('UPSTREAM_TIMEOUT', 'slow')]), undefined],
    ['a "not found" (it is data, not an error)', (f: OperationFacts) => void (f.notFound = true), { operationName: 'Page', credentialsAccepted: false }],
  ])('%s', (_what, record, expected) => {
    expect(shareVerdict(facts(record))).toEqual(expected);
  });
});

describe('OperationFacts', () => {
  it('counts attempts and cache hits from its sink, and keeps error codes as the response shows them', () => {
    const f = facts((made) => {
      made.events.attempt!({ route: 'listJobs', status: 503, durationMs: 1, outcome: 'error', attempt: 0 });
      made.events.attempt!({ route: 'listJobs', status: 200, durationMs: 1, outcome: 'ok', attempt: 1 });
      made.recordErrors([new GatewayError('UPSTREAM_ERROR', 'x'), new Error('bug'), new GatewayError('UPSTREAM_ERROR', 'y')]);
    });
    expect(f.upstreamCalls).toBe(2);
    expect(f.errorCount).toBe(3);
    expect(f.errorCodes).toEqual(['UPSTREAM_ERROR', 'INTERNAL_SERVER_ERROR']);
  });

  it.each<[string, (facts: OperationFacts) => void, boolean]>([
    ['no upstream call (`{ __typename }`)', () => {}, false],
    ['a 200', (f) => f.events.attempt!({ route: 'listEngines', status: 200, durationMs: 1, outcome: 'ok', attempt: 0 }), true],
    ['a 404', (f) => f.events.attempt!({ route: 'getJob', status: 404, durationMs: 1, outcome: 'not-found', attempt: 0 }), true],
    ['a 400 of the upstream', (f) => f.events.attempt!({ route: 'getJob', status: 400, durationMs: 1, outcome: 'error', attempt: 0 }), true],
    ['a 401', (f) => f.events.attempt!({ route: 'listEngines', status: 401, durationMs: 1, outcome: 'error', attempt: 0 }), false],
    ['a 403', (f) => f.events.attempt!({ route: 'listEngines', status: 403, durationMs: 1, outcome: 'error', attempt: 0 }), false],
    ['a 429', (f) => f.events.attempt!({ route: 'listEngines', status: 429, durationMs: 1, outcome: 'error', attempt: 0 }), false],
    ['a 503', (f) => f.events.attempt!({ route: 'listEngines', status: 503, durationMs: 1, outcome: 'error', attempt: 0 }), false],
    ['no answer', (f) => f.events.attempt!({ route: 'listEngines', status: undefined, durationMs: 1, outcome: 'error', attempt: 0 }), false],
    ['a 401, then a 200', (f) => {
      f.events.attempt!({ route: 'listEngines', status: 401, durationMs: 1, outcome: 'error', attempt: 0 });
      f.events.attempt!({ route: 'listEngines', status: 200, durationMs: 1, outcome: 'ok', attempt: 1 });
    }, true],
    ['an upstream cache hit (served only to a scope the upstream answered recently)', (f) => f.events.cache!({ route: 'getJob', hit: true, ttlLeftMs: 100 }), true],
    ['an upstream cache miss', (f) => f.events.cache!({ route: 'getJob', hit: false }), false],
    ['a stored whole answer', (f) => f.answeredWith('cached', 'Page', true), true],
    ["a leader's answer whose credentials were not accepted", (f) => f.answeredWith('coalesced', 'Page', false), false],
  ])('credentials accepted after %s: %s', (_what, record, accepted) => {
    const f = facts(record);
    expect([f.credentialsAccepted, f.nameVouched]).toEqual([accepted, accepted]);
  });

  it('vouches for the name of a persisted query list operation without any upstream call', () => {
    const f = facts((made) => made.markSafelisted());
    expect([f.credentialsAccepted, f.nameVouched]).toEqual([false, true]);
  });

  it('passes whether the credentials were accepted on to the waiters of a shared answer', () => {
    const accepted = facts((f) => f.events.attempt!({ route: 'listEngines', status: 200, durationMs: 1, outcome: 'ok', attempt: 0 }));
    expect(shareVerdict(accepted)).toEqual({ operationName: 'Page', credentialsAccepted: true });
    expect(shareVerdict(facts())).toEqual({ operationName: 'Page', credentialsAccepted: false });
  });

  it('takes the name of the answer it was served', () => {
    const f = new OperationFacts();
    f.answeredWith('coalesced', 'Other', false);
    expect([f.operationName, f.resolved, f.reused]).toEqual(['Other', true, 'coalesced']);
  });
});
