import { ErrorCode, isPublicErrorCode } from '../errors/codes';
import type { UpstreamEvents } from './events';

/** How a request was answered with another's answer, when it was. */
export type Reuse = 'cached' | 'coalesced';

/**
 * What happened in one GraphQL request, recorded as it happens. Policy (reusePolicy) and
 * telemetry (OperationTelemetry) both read it, not each other. Plain counters and flags.
 */
export class OperationFacts {
  private name: string | null = null;
  private type: string | null = null;
  private resolvedFlag = false;
  private dataFlag = false;
  private errors = 0;
  private readonly codes = new Set<string>();
  private calls = 0;
  private hits = 0;
  private notFoundFlag = false;
  private reuse: Reuse | undefined;
  private acceptedFlag = false;
  private safelistedFlag = false;

  /** The sink the operation's upstream calls report into (counts only). */
  readonly events: UpstreamEvents = {
    attempt: (event) => {
      this.calls += 1;
      if (acceptsCredentials(event.status)) this.acceptedFlag = true;
    },
    cache: (event) => {
      if (!event.hit) return;
      // The cache serves a scope only while the upstream accepted it recently (CredentialGate).
      this.acceptedFlag = true;
      this.hits += 1;
    },
  };

  /** Apollo parsed and validated the document and picked the operation. */
  operationResolved(name: string | null, type: string | null): void {
    this.name = name;
    this.type = type;
    this.resolvedFlag = true;
  }

  /** Errors as graphql-js or Apollo raised them (before masking): only their codes are kept. */
  recordErrors(errors: readonly unknown[]): void {
    this.errors += errors.length;
    for (const error of errors) this.codes.add(publicCode(error));
  }

  recordResponse(hasData: boolean): void {
    this.dataFlag = hasData;
  }

  /** The upstream answered "not found" to one of the operation's calls. */
  markNotFound(): void {
    this.notFoundFlag = true;
  }

  /** The request was answered with another's answer, under the name that answer's operation had. */
  answeredWith(reuse: Reuse, operationName: string | null, credentialsAccepted: boolean): void {
    this.reuse = reuse;
    this.name = operationName;
    this.resolvedFlag = true;
    if (credentialsAccepted) this.acceptedFlag = true;
  }

  /** The operation's text is a persisted query list operation's (PERSISTED_QUERIES=safelist). */
  markSafelisted(): void {
    this.safelistedFlag = true;
  }

  /** Whether the upstream accepted the caller's credentials during the operation (see acceptsCredentials). */
  get credentialsAccepted(): boolean {
    return this.acceptedFlag;
  }

  /** Whether the name may take a metrics label: anyone can send any name with a made-up token. */
  get nameVouched(): boolean {
    return this.acceptedFlag || this.safelistedFlag;
  }

  /** The operation's name once resolved (`null`: anonymous, or not resolved). */
  get operationName(): string | null {
    return this.name;
  }

  get operationType(): string | null {
    return this.type;
  }

  /** Whether the request resolved to an operation (or was answered with one's answer). */
  get resolved(): boolean {
    return this.resolvedFlag;
  }

  get errorCount(): number {
    return this.errors;
  }

  /** Distinct public codes of the errors, as the response shows them (a code outside the set: INTERNAL_SERVER_ERROR). */
  get errorCodes(): string[] {
    return [...this.codes];
  }

  get hasData(): boolean {
    return this.dataFlag;
  }

  /** HTTP attempts the operation made to the upstream (each retry counts). */
  get upstreamCalls(): number {
    return this.calls;
  }

  /** Upstream answers the operation took from the upstream answer cache. */
  get upstreamCacheHits(): number {
    return this.hits;
  }

  get notFound(): boolean {
    return this.notFoundFlag;
  }

  get reused(): Reuse | undefined {
    return this.reuse;
  }
}

/** An upstream answer that accepts the credentials: any of its own but 401/403 and 429; 5xx says nothing. */
export function acceptsCredentials(status: number | undefined): boolean {
  return status !== undefined && status < 500 && status !== 401 && status !== 403 && status !== 429;
}

function publicCode(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return isPublicErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}
