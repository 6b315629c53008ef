import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/GatewayError';

export interface CredentialGateOptions {
  /**
   * How long the upstream's 401 for a credential scope is remembered (`CSE_AUTH_REJECTION_TTL_MS`):
   * meanwhile every call of that scope fails at once with the same error, without a call. 0: never.
   */
  readonly rejectionTtlMs: number;
  /**
   * How long an answer from the upstream itself vouches for a scope (`CACHE_AUTH_RECHECK_MS`):
   * cached answers are served to it, and its calls go out without waiting for a probe, only while
   * the upstream answered one of its calls within this time.
   */
  readonly recheckMs: number;
  /** Scopes remembered at once (default {@link MAX_CREDENTIAL_SCOPES}). */
  readonly maxScopes?: number;
  /** Monotonic milliseconds; injected by tests. */
  readonly now?: () => number;
}

/** How a call was let through: on the scope's standing, or as the probe that will establish it. */
export type Clearance = { readonly kind: 'vouched' } | { readonly kind: 'probe'; readonly probe: Probe };

/** A call probing a scope; the calls of the scope that arrive meanwhile wait for it. */
interface Probe {
  readonly settled: Promise<void>;
  readonly finish: () => void;
  /** Set when the probe was refused (401 or 403): the calls that waited for it fail with it too. */
  refusal?: GatewayError;
}

const VOUCHED: Clearance = Object.freeze({ kind: 'vouched' });

/**
 * Scopes remembered at once; least recently used are forgotten, and a forgotten scope only needs a
 * probe again. A hundred bytes or so each: 100,000 is about 10 MB at most.
 */
export const MAX_CREDENTIAL_SCOPES = 100_000;

/** What an admitted call showed about its credentials. */
export type CredentialOutcome =
  /** The upstream answered (2xx, "not found", any 4xx but 401/403): it accepted the credentials. */
  | { readonly kind: 'accepted' }
  /** 401 or 403: the upstream refused the credentials (a 401 is remembered, see `rejectionTtlMs`). */
  | { readonly kind: 'refused'; readonly error: GatewayError }
  /** No verdict (5xx, 429, timeout, connection failure, cancelled). */
  | { readonly kind: 'unknown' };

interface Standing {
  /** When the upstream last answered a call of the scope. */
  acceptedAt: number | undefined;
  rejection: { readonly error: GatewayError; readonly until: number } | undefined;
  /** The call probing the scope, if one is in flight. */
  probe: Probe | undefined;
}

/**
 * What the gateway knows of each credential scope (token, project, enterprise project: keyed by
 * its SHA-256 digest, never the token), so that credentials the upstream refuses cost it one call,
 * not one per field, representation or request:
 *
 * - A scope the upstream has not answered recently goes one call at a time: the first call is the
 *   probe, the others wait for its verdict. A made-up token asking 25 aliased engines, or 49
 *   `_entities` representations, makes one call (401), and the 24 others fail at once with it
 *   (as they do on a 403). Accepted, every call waiting goes at once; without a verdict (a 5xx),
 *   the next one probes.
 * - A 401 is remembered for `rejectionTtlMs`: the scope's next requests fail without a call.
 * - Cached answers are served to a scope only while the upstream itself answered it within
 *   `recheckMs` (see {@link vouches}): a token revoked upstream stops getting data from the cache
 *   once that time has passed, and a 401 or 403 ends it at once.
 *
 * Bounded by `maxScopes`; a scope that is forgotten is simply unknown again. Per replica: nothing
 * here is a secret, but a refusal is cheap to learn again and must never outlive its TTL elsewhere.
 */
export class CredentialGate {
  private readonly scopes: LRUCache<string, Standing>;
  private readonly now: () => number;

  constructor(private readonly options: CredentialGateOptions) {
    this.scopes = new LRUCache({ max: options.maxScopes ?? MAX_CREDENTIAL_SCOPES });
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether cached answers may be served to the scope now. */
  vouches(digest: string): boolean {
    const standing = this.scopes.get(digest);
    return standing !== undefined && this.vouched(standing);
  }

  /** The scope's remembered 401, as an error to fail a call with at once; `undefined` when none. */
  rejection(digest: string): GatewayError | undefined {
    const rejection = this.scopes.get(digest)?.rejection;
    if (rejection === undefined) return undefined;
    if (this.now() < rejection.until) return rejection.error;
    return undefined;
  }

  /**
   * Leave to call the upstream with the scope's credentials: at once when the scope is vouched
   * for or nobody is probing it (the call then probes); otherwise after the probe's verdict.
   * Rejects with the remembered rejection, or with `signal`'s reason when it aborts while waiting.
   * Every clearance must be handed back to {@link settle}.
   */
  async admit(digest: string, signal: AbortSignal): Promise<Clearance> {
    for (;;) {
      const rejection = this.rejection(digest);
      if (rejection !== undefined) throw rejection;
      const standing = this.standing(digest);
      if (this.vouched(standing)) return VOUCHED;
      if (standing.probe === undefined) {
        let finish!: () => void;
        const settled = new Promise<void>((resolve) => (finish = resolve));
        standing.probe = { settled, finish };
        return { kind: 'probe', probe: standing.probe };
      }
      const probe = standing.probe;
      await waitFor(probe.settled, signal);
      // The verdict was asked for them too: a 403 (not remembered past this moment) turns away
      // every call that waited for it, as a 401 does.
      if (probe.refusal !== undefined) throw probe.refusal;
    }
  }

  /** Reports what an admitted call showed. */
  settle(digest: string, clearance: Clearance, outcome: CredentialOutcome): void {
    const standing = this.standing(digest);
    if (outcome.kind === 'accepted') {
      standing.acceptedAt = this.now();
      standing.rejection = undefined;
    } else if (outcome.kind === 'refused') {
      // A 401 or a 403 ends what vouched for the scope: no cached answer is served to it until
      // the upstream answers it again.
      standing.acceptedAt = undefined;
      const status = outcome.error.extensions.upstream as { status?: number } | undefined;
      if (status?.status === 401 && this.options.rejectionTtlMs > 0) {
        standing.rejection = { error: outcome.error, until: this.now() + this.options.rejectionTtlMs };
      }
    }
    if (clearance.kind === 'probe') {
      // The probe's own handle, not the scope's current one: the scope may have been forgotten
      // (LRU) and made anew meanwhile, and the calls waiting for this probe must still be let go.
      if (standing.probe === clearance.probe) standing.probe = undefined;
      if (outcome.kind === 'refused') clearance.probe.refusal = outcome.error;
      clearance.probe.finish();
    }
  }

  private vouched(standing: Standing): boolean {
    return standing.acceptedAt !== undefined && this.now() - standing.acceptedAt <= this.options.recheckMs;
  }

  private standing(digest: string): Standing {
    let standing = this.scopes.get(digest);
    if (standing === undefined) {
      standing = { acceptedAt: undefined, rejection: undefined, probe: undefined };
      this.scopes.set(digest, standing);
    }
    return standing;
  }
}

/** Waits for `promise`, or rejects with the signal's reason when it aborts first. */
function waitFor(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** Whether an error is the upstream refusing the caller's credentials (HTTP 401 or 403). */
export function isCredentialRefusal(error: unknown): error is GatewayError {
  if (!(error instanceof GatewayError)) return false;
  const status = (error.extensions.upstream as { status?: number } | undefined)?.status;
  return (error.code === 'UNAUTHENTICATED' && status === 401) || (error.code === 'FORBIDDEN' && status === 403);
}
