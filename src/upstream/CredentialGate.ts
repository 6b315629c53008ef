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

/** What an admitted call showed about its credentials. */
export type CredentialOutcome =
  /**
   * The upstream answered (2xx, "not found", any 4xx but 401 and 429): it accepted the credentials.
   * A 403 is one of these: it denies one resource to credentials the upstream recognised
   * (fine-grained IAM refuses one engine's jobs and serves the rest).
   */
  | { readonly kind: 'accepted' }
  /** 401: the upstream refused the credentials themselves (remembered, see `rejectionTtlMs`). */
  | { readonly kind: 'refused'; readonly error: GatewayError }
  /** No verdict (5xx, 429, timeout, connection failure, cancelled). */
  | { readonly kind: 'unknown' };

/** How a call was let through: on the scope's standing, or as a probe that will establish it. */
export type Clearance = { readonly kind: 'vouched' } | { readonly kind: 'probe'; readonly round: ProbeRound };

/**
 * The calls probing a scope while it has no verdict, and the calls waiting for one. Usually one
 * probe; another starts when the verdict keeps the waiters waiting more than
 * {@link PROBE_PATIENCE_MS} (the first may be stuck on a slow engine), at most one per that time.
 */
interface ProbeRound {
  readonly settled: Promise<void>;
  readonly finish: () => void;
  /** Probes in flight. */
  probes: number;
  /** When the last probe of the round started (monotonic ms). */
  lastStart: number;
  /** Set when a probe was refused (401): the calls that waited for it fail with it too. */
  refusal?: GatewayError;
}

const VOUCHED: Clearance = Object.freeze({ kind: 'vouched' });

/**
 * Scopes remembered at once; least recently used are forgotten, and a forgotten scope only needs a
 * probe again. A hundred bytes or so each: 100,000 is about 10 MB at most.
 */
export const MAX_CREDENTIAL_SCOPES = 100_000;

/**
 * How long a call of an unknown scope waits for the probe's verdict before it probes too. Long
 * enough that a refused token (the API gateway answers 401 in milliseconds) costs one call; short
 * enough that one slow engine's probe does not hold every other call of a new caller for the
 * length of its timeout.
 */
export const PROBE_PATIENCE_MS = 500;

interface Standing {
  /** When the upstream last answered a call of the scope. */
  acceptedAt: number | undefined;
  rejection: { readonly error: GatewayError; readonly until: number } | undefined;
  /** The probes in flight and their waiters, while the scope has no verdict. */
  round: ProbeRound | undefined;
  /**
   * Changes whenever the upstream refuses the scope (a 401): answers cached under an earlier
   * generation are never served to it again (see {@link CredentialGate.generation}).
   */
  generation: number;
}

/**
 * What the gateway knows of each credential scope (token, project, enterprise project: keyed by
 * its SHA-256 digest, never the token), so that credentials the upstream refuses cost it one call,
 * not one per field, representation or request:
 *
 * - A scope the upstream has not answered recently goes one call at a time: the first call is the
 *   probe, the others wait for its verdict. A made-up token asking 25 aliased engines, or 49
 *   `_entities` representations, makes one call (401), and the 24 others fail at once with it.
 *   Accepted (a 403 included), every call waiting goes at once; without a verdict (a 5xx),
 *   the next one probes. A waiter that has waited {@link PROBE_PATIENCE_MS} probes too (one more
 *   probe per that time at most), so a probe stuck on a slow engine does not hold the others.
 * - A 401 is remembered for `rejectionTtlMs`: the scope's next requests fail without a call.
 * - Cached answers are served to a scope only while the upstream itself answered it within
 *   `recheckMs` and only if they were kept since its last refusal (see {@link generation}): a
 *   token revoked upstream stops getting data from the caches once that time has passed, and a
 *   401 ends the use of everything kept before it. A 403 does not: it denies that one resource
 *   (its answer is never kept), not the credentials, and the scope's other answers stay good.
 *
 * Bounded by `maxScopes`; a scope that is forgotten is simply unknown again (with a generation of
 * its own: what was kept before is not served). Per replica: nothing here is a secret, but a
 * refusal is cheap to learn again and must never outlive its TTL elsewhere.
 */
export class CredentialGate {
  private readonly scopes: LRUCache<string, Standing>;
  private readonly now: () => number;
  /** Generations are unique across scopes and time (see Standing.generation). */
  private nextGeneration = 1;

  constructor(private readonly options: CredentialGateOptions) {
    this.scopes = new LRUCache({ max: options.maxScopes ?? MAX_CREDENTIAL_SCOPES });
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether cached answers may be served to the scope now. */
  vouches(digest: string): boolean {
    const standing = this.scopes.get(digest);
    return standing !== undefined && this.vouched(standing);
  }

  /**
   * The scope's cache generation while it is vouched for, `undefined` otherwise: a cache stores it
   * with each answer it keeps for the scope and serves the answer only while they are equal.
   */
  generation(digest: string): number | undefined {
    const standing = this.scopes.get(digest);
    return standing !== undefined && this.vouched(standing) ? standing.generation : undefined;
  }

  /**
   * The scope's generation whether or not it is vouched for: what {@link acceptedElsewhere} is
   * given back, so that a refusal seen here in between is not overruled by older news.
   */
  standingGeneration(digest: string): number {
    return this.standing(digest).generation;
  }

  /**
   * Another replica's upstream call accepted the scope recently: the fleet's vouch in Redis, with
   * `leftMs` of CACHE_AUTH_RECHECK_MS left. It vouches here for as long (never longer than the
   * rule allows one's own call), unless this replica has refused the scope since `generation`
   * (taken with {@link standingGeneration} before asking) or remembers a 401 for it.
   */
  acceptedElsewhere(digest: string, leftMs: number, generation: number): void {
    const standing = this.scopes.get(digest);
    if (standing === undefined || standing.generation !== generation || this.rejection(digest) !== undefined) return;
    const at = this.now() - this.options.recheckMs + Math.min(leftMs, this.options.recheckMs);
    if (standing.acceptedAt === undefined || at > standing.acceptedAt) standing.acceptedAt = at;
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
   * for or nobody is probing it (the call then probes); otherwise after the probe's verdict, or
   * as another probe once it has waited {@link PROBE_PATIENCE_MS}.
   * Rejects with the remembered rejection, or with `signal`'s reason when it aborts while waiting.
   * Every clearance must be handed back to {@link settle}.
   */
  async admit(digest: string, signal: AbortSignal): Promise<Clearance> {
    for (;;) {
      const rejection = this.rejection(digest);
      if (rejection !== undefined) throw rejection;
      const standing = this.standing(digest);
      if (this.vouched(standing)) return VOUCHED;
      const round = standing.round;
      if (round === undefined) {
        let finish!: () => void;
        const settled = new Promise<void>((resolve) => (finish = resolve));
        standing.round = { settled, finish, probes: 1, lastStart: this.now() };
        return { kind: 'probe', round: standing.round };
      }
      const patience = round.lastStart + PROBE_PATIENCE_MS - this.now();
      if (patience <= 0) {
        round.probes += 1;
        round.lastStart = this.now();
        return { kind: 'probe', round };
      }
      await waitFor(round.settled, signal, patience);
      // The verdict was asked for them too: a 401 turns away every call that waited for it.
      if (round.refusal !== undefined) throw round.refusal;
    }
  }

  /** Reports what an admitted call showed. */
  settle(digest: string, clearance: Clearance, outcome: CredentialOutcome): void {
    const standing = this.standing(digest);
    if (outcome.kind === 'accepted') {
      standing.acceptedAt = this.now();
      standing.rejection = undefined;
    } else if (outcome.kind === 'refused') {
      // A 401 ends what vouched for the scope, and everything cached for it so far.
      standing.acceptedAt = undefined;
      standing.generation = this.nextGeneration++;
      if (this.options.rejectionTtlMs > 0) {
        standing.rejection = { error: outcome.error, until: this.now() + this.options.rejectionTtlMs };
      }
    }
    if (clearance.kind !== 'probe') return;
    const { round } = clearance;
    round.probes -= 1;
    if (outcome.kind === 'refused') round.refusal = outcome.error;
    // A verdict ends the round; without one, it ends when its last probe does (a waiter then
    // starts the next). The round's own handle, not the scope's current one: the scope may have
    // been forgotten (LRU) and made anew meanwhile, and its waiters must still be let go.
    if (outcome.kind !== 'unknown' || round.probes === 0) {
      if (standing.round === round) standing.round = undefined;
      round.finish();
    }
  }

  private vouched(standing: Standing): boolean {
    return standing.acceptedAt !== undefined && this.now() - standing.acceptedAt <= this.options.recheckMs;
  }

  private standing(digest: string): Standing {
    let standing = this.scopes.get(digest);
    if (standing === undefined) {
      standing = { acceptedAt: undefined, rejection: undefined, round: undefined, generation: this.nextGeneration++ };
      this.scopes.set(digest, standing);
    }
    return standing;
  }
}

/** Waits for `promise` at most `ms`, or rejects with the signal's reason when it aborts first. */
function waitFor(promise: Promise<void>, signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(done);
  });
}

/**
 * Whether an error is the upstream refusing the caller's credentials themselves: HTTP 401. A 403
 * is not: it denies one resource to credentials the upstream recognised, and ending the scope
 * over it would empty a caller's every cached answer (fleet-wide, with Redis) on each request
 * that touches the one resource it may not see.
 */
export function isCredentialRefusal(error: unknown): error is GatewayError {
  if (!(error instanceof GatewayError)) return false;
  const status = (error.extensions.upstream as { status?: number } | undefined)?.status;
  return error.code === 'UNAUTHENTICATED' && status === 401;
}
