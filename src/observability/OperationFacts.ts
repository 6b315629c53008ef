import { publicCodeOf } from '../errors/codes';
import type { UpstreamEvents } from './events';

type Reuse = 'cached' | 'coalesced';

/** What happened in one GraphQL request: policy (reusePolicy) and telemetry both read it, not each other. */
export class OperationFacts {
  /** `null`: anonymous, or not resolved. */
  operationName: string | null = null;
  operationType: string | null = null;
  /** Also when answered with another operation's answer. */
  resolved = false;
  hasData = false;
  errorCount = 0;
  /** Each retry counts. */
  upstreamCalls = 0;
  upstreamCacheHits = 0;
  /** The least time any upstream cache entry it used had left (Infinity: it used none). */
  keepAtMostMs = Number.POSITIVE_INFINITY;
  notFound = false;
  reused: Reuse | undefined;
  credentialsAccepted = false;
  private safelisted = false;
  private readonly codes = new Set<string>();

  readonly events: UpstreamEvents = {
    attempt: (event) => {
      this.upstreamCalls += 1;
      if (acceptsCredentials(event.status)) this.credentialsAccepted = true;
    },
    cache: (event) => {
      if (!event.hit) return;
      // The cache serves a scope only while the upstream accepted it recently (CredentialGate).
      this.credentialsAccepted = true;
      this.upstreamCacheHits += 1;
      // A hit that does not say counts as expiring now: nothing built on it is kept.
      this.keepAtMostMs = Math.min(this.keepAtMostMs, event.ttlLeftMs ?? 0);
    },
  };

  operationResolved(name: string | null, type: string | null): void {
    this.operationName = name;
    this.operationType = type;
    this.resolved = true;
  }

  /** As raised, before masking: only their codes are kept. */
  recordErrors(errors: readonly unknown[]): void {
    this.errorCount += errors.length;
    for (const error of errors) this.codes.add(publicCodeOf(error));
  }

  answeredWith(reuse: Reuse, operationName: string | null, credentialsAccepted: boolean): void {
    this.reused = reuse;
    this.operationName = operationName;
    this.resolved = true;
    if (credentialsAccepted) this.credentialsAccepted = true;
  }

  /** PERSISTED_QUERIES=safelist: the text is a listed operation's. */
  markSafelisted(): void {
    this.safelisted = true;
  }

  /** Whether the name may take a metrics label: anyone can send any name with a made-up token. */
  get nameVouched(): boolean {
    return this.credentialsAccepted || this.safelisted;
  }

  /** Distinct, as the response shows them (a code outside the closed set: INTERNAL_SERVER_ERROR). */
  get errorCodes(): string[] {
    return [...this.codes];
  }
}

/** An upstream answer that accepts the credentials: any of its own but 401/403 and 429; 5xx says nothing. */
function acceptsCredentials(status: number | undefined): boolean {
  return status !== undefined && status < 500 && status !== 401 && status !== 403 && status !== 429;
}
