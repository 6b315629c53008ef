import type { OperationFacts } from '../observability/OperationFacts';
import type { CachePolicy } from './CachePolicy';

/** An answer that may be reused, named for the reuser's log line and metrics. */
export interface ReuseVerdict {
  readonly operationName: string | null;
  /** What its cached parts had left, on top of its own max-age. */
  readonly maxKeepMs?: number;
}

export interface ShareVerdict extends ReuseVerdict {
  readonly credentialsAccepted: boolean;
}

/**
 * Whether the whole-response cache may keep an operation's 200 answer: not after a "not found"
 * (the upstream answer cache never keeps those either); built from cached upstream answers, only
 * for what the shortest-lived of them had left.
 */
export function storeVerdict(facts: OperationFacts, policy: CachePolicy): ReuseVerdict | undefined {
  if (facts.notFound) return undefined;
  if (policy.keepAtMostMs === Number.POSITIVE_INFINITY) return { operationName: facts.operationName };
  const left = Math.floor(policy.keepAtMostMs);
  return left > 0 ? { operationName: facts.operationName, maxKeepMs: left } : undefined;
}

/**
 * Whether a leader's 200 answer may serve the requests that waited for it: not with errors (they
 * are the leader's). Apollo's `no-store` cannot tell: every answer says it when the caches are off.
 */
export function shareVerdict(facts: OperationFacts): ShareVerdict | undefined {
  if (facts.errorCount > 0) return undefined;
  return { operationName: facts.operationName, credentialsAccepted: facts.credentialsAccepted };
}
