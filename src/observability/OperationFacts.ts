import { ErrorCode, isPublicErrorCode } from '../errors/codes';
import type { UpstreamEvents } from './events';

/** How a request was answered with another's answer, when it was. */
export type Reuse = 'cached' | 'coalesced';

/**
 * What happened in one GraphQL request, recorded as it happens. Policy (reusePolicy) and
 * telemetry (OperationTelemetry) both read it, not each other. Plain counters and flags, written
 * only through the methods and the event sink.
 */
export class OperationFacts {
  /** The operation's name once resolved (`null`: anonymous, or not resolved). */
  operationName: string | null = null;
  operationType: string | null = null;
  /** Whether the request resolved to an operation (or was answered with one's answer). */
  resolved = false;
  hasData = false;
  errorCount = 0;
  /** HTTP attempts the operation made to the upstream (each retry counts). */
  upstreamCalls = 0;
  /** Upstream answers the operation took from the upstream answer cache. */
  upstreamCacheHits = 0;
  /** The upstream answered "not found" to one of the operation's calls. */
  notFound = false;
  reused: Reuse | undefined;
  /** Whether the upstream accepted the caller's credentials during the operation (see acceptsCredentials). */
  credentialsAccepted = false;
  private safelisted = false;
  private readonly codes = new Set<string>();

  /** The sink the operation's upstream calls report into (counts only). */
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
    },
  };

  /** Apollo parsed and validated the document and picked the operation. */
  operationResolved(name: string | null, type: string | null): void {
    this.operationName = name;
    this.operationType = type;
    this.resolved = true;
  }

  /** Errors as graphql-js or Apollo raised them (before masking): only their codes are kept. */
  recordErrors(errors: readonly unknown[]): void {
    this.errorCount += errors.length;
    for (const error of errors) this.codes.add(publicCode(error));
  }

  recordResponse(hasData: boolean): void {
    this.hasData = hasData;
  }

  markNotFound(): void {
    this.notFound = true;
  }

  /** The request was answered with another's answer, under the name that answer's operation had. */
  answeredWith(reuse: Reuse, operationName: string | null, credentialsAccepted: boolean): void {
    this.reused = reuse;
    this.operationName = operationName;
    this.resolved = true;
    if (credentialsAccepted) this.credentialsAccepted = true;
  }

  /** The operation's text is a persisted query list operation's (PERSISTED_QUERIES=safelist). */
  markSafelisted(): void {
    this.safelisted = true;
  }

  /** Whether the name may take a metrics label: anyone can send any name with a made-up token. */
  get nameVouched(): boolean {
    return this.credentialsAccepted || this.safelisted;
  }

  /** Distinct public codes of the errors, as the response shows them (others: INTERNAL_SERVER_ERROR). */
  get errorCodes(): string[] {
    return [...this.codes];
  }
}

/** An upstream answer that accepts the credentials: any of its own but 401/403 and 429; 5xx says nothing. */
function acceptsCredentials(status: number | undefined): boolean {
  return status !== undefined && status < 500 && status !== 401 && status !== 403 && status !== 429;
}

function publicCode(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return isPublicErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}
