import type { OperationFacts } from '../observability/OperationFacts';

/** An answer that may be reused, named for the reuser's log line and metrics. */
export interface ReuseVerdict {
  readonly operationName: string | null;
  /** What its cached parts had left, on top of its own max-age. */
  readonly maxKeepMs?: number;
}

export interface ShareVerdict extends ReuseVerdict {
  readonly credentialsAccepted: boolean;
}

/** Not after a "not found" (the upstream answer cache never keeps those either). */
export function storeVerdict(facts: OperationFacts): ReuseVerdict | undefined {
  if (facts.notFound) return undefined;
  if (facts.keepAtMostMs === Number.POSITIVE_INFINITY) return { operationName: facts.operationName };
  const left = Math.floor(facts.keepAtMostMs);
  return left > 0 ? { operationName: facts.operationName, maxKeepMs: left } : undefined;
}

/** Not with errors, the leader's; Apollo's `no-store` cannot tell (with caches off every answer says it). */
export function shareVerdict(facts: OperationFacts): ShareVerdict | undefined {
  if (facts.errorCount > 0) return undefined;
  return { operationName: facts.operationName, credentialsAccepted: facts.credentialsAccepted };
}
