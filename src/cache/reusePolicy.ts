import type { OperationFacts } from '../observability/OperationFacts';

/** An answer that may be reused, and the operation it answered (for the reuser's log line and metrics). */
export interface ReuseVerdict {
  readonly operationName: string | null;
  /** At most this long may it be kept (on top of its own max-age): what its cached parts had left. */
  readonly maxKeepMs?: number;
}

/**
 * Whether an operation's 200 answer may be kept by the whole-response cache (which has already
 * checked its `Cache-Control`): not when the operation saw a "not found" — the upstream cache
 * never keeps those either, so an engine or job that appears is seen at once. One built from
 * upstream cache entries is kept only for what the shortest-lived of them had left: they are
 * already partly aged, and keeping the answer for a full max-age again would serve data older than
 * their TTLs allow. (With Redis, every replica but the one that called the upstream builds its
 * answers from cache entries: not keeping them at all made those replicas execute every request.)
 */
export function storeVerdict(facts: OperationFacts): ReuseVerdict | undefined {
  if (facts.notFound) return undefined;
  if (facts.upstreamCacheHits === 0) return { operationName: facts.operationName };
  const left = Math.floor(facts.upstreamCacheTtlLeftMs);
  return left > 0 ? { operationName: facts.operationName, maxKeepMs: left } : undefined;
}

/**
 * Whether a leader's 200 answer may serve the identical requests that waited for it: not when it
 * has errors. Apollo's `no-store` cannot tell (every answer says it when the caches are off), and
 * an error (a transient upstream fault, a timeout) is the leader's, not theirs: they execute on
 * their own instead.
 */
export function shareVerdict(facts: OperationFacts): (ReuseVerdict & { readonly credentialsAccepted: boolean }) | undefined {
  if (facts.errorCount > 0) return undefined;
  return { operationName: facts.operationName, credentialsAccepted: facts.credentialsAccepted };
}
