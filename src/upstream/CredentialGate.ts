import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { SecondLevel } from '../cache/secondLevel';
import type { GatewayError } from '../errors/GatewayError';
import { classifyTransportError, credentialVerdictOf } from './errorMapping';
import type { CallStage } from './stages/types';

export interface CredentialGateOptions {
  /** How long the upstream's 401 for a scope is remembered (`CSE_AUTH_REJECTION_TTL_MS`); 0: never. */
  readonly rejectionTtlMs: number;
  /** `CACHE_AUTH_RECHECK_MS`: only this long after an answer are cached answers served to a scope. */
  readonly recheckMs: number;
  /** Scopes remembered at once; least recently used are forgotten (and only need a probe again). */
  readonly maxScopes?: number;
  /** Monotonic milliseconds; injected by tests. */
  readonly now?: () => number;
}

/** What an admitted call showed about its credentials: `unknown` is no verdict (5xx, 429, timeout). */
export type CredentialOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'refused'; readonly error: GatewayError }
  | { readonly kind: 'unknown' };

/** How a call was let through: the upstream answered the scope recently, or as a probe for a verdict. */
export type Clearance = { readonly kind: 'vouched' } | { readonly kind: 'probe'; readonly round: ProbeRound };

/** The probes of a scope without a verdict, and the calls waiting for one. */
interface ProbeRound {
  readonly settled: Promise<void>;
  readonly finish: () => void;
  probes: number;
  /** When the last probe of the round started (monotonic ms). */
  lastStart: number;
  /** A probe's 401: the calls that waited for it fail with it too. */
  refusal?: GatewayError;
}

const VOUCHED: Clearance = Object.freeze({ kind: 'vouched' });
const ACCEPTED: CredentialOutcome = Object.freeze({ kind: 'accepted' });
const UNKNOWN: CredentialOutcome = Object.freeze({ kind: 'unknown' });
const NEVER = new AbortController().signal;

/** About a hundred bytes a scope: 10 MB at most. */
const MAX_CREDENTIAL_SCOPES = 100_000;

/**
 * How long a call of an unknown scope waits for the probe's verdict before it probes too: a refused
 * token (401 in milliseconds) costs one call, and a probe stuck on a slow engine does not hold
 * every other call of a new caller for its whole timeout.
 */
export const PROBE_PATIENCE_MS = 500;

interface ScopeState {
  /** When the upstream last answered a call of the scope. */
  acceptedAt: number | undefined;
  rejection: { readonly error: GatewayError; readonly until: number } | undefined;
  round: ProbeRound | undefined;
  /** Changes on every 401: answers cached under an earlier generation are never served again. */
  generation: number;
}

/**
 * What the gateway knows of each credential scope (keyed by its digest, never the token), so that
 * credentials the upstream refuses cost it one call, not one per field or request:
 *
 * - A scope the upstream has not answered recently goes one call at a time: the first call probes,
 *   the others wait for its verdict (a 401 fails them all at once; an acceptance lets them go; no
 *   verdict lets the next one probe). A waiter that has waited {@link PROBE_PATIENCE_MS} probes too.
 * - A 401 is remembered for `rejectionTtlMs`, and ends the use of everything cached before it.
 * - Cached answers are served to a scope only while the upstream itself answered it within
 *   `recheckMs`: a token revoked upstream stops getting cached data once that time has passed.
 *
 * Per replica: a refusal is cheap to learn again and must never outlive its TTL elsewhere.
 */
export class CredentialGate {
  private readonly scopes: LRUCache<string, ScopeState>;
  private readonly now: () => number;
  /** Unique across scopes and time. */
  private nextGeneration = 1;

  constructor(private readonly options: CredentialGateOptions) {
    this.scopes = new LRUCache({ max: options.maxScopes ?? MAX_CREDENTIAL_SCOPES });
    this.now = options.now ?? (() => performance.now());
  }

  /** The scope's cache generation while cached answers may be served to it, else `undefined`. */
  generation(digest: string): number | undefined {
    const state = this.scopes.get(digest);
    return state !== undefined && this.recentlyAccepted(state) ? state.generation : undefined;
  }

  /** The scope's generation, vouched for or not: given back to {@link acceptedElsewhere}. */
  standingGeneration(digest: string): number {
    return this.stateOf(digest).generation;
  }

  /**
   * Another replica's call accepted the scope with `leftMs` of `recheckMs` left (Redis): it vouches
   * here as long, unless this replica refused the scope since `generation` or remembers a 401.
   */
  acceptedElsewhere(digest: string, leftMs: number, generation: number): void {
    const state = this.scopes.get(digest);
    if (state === undefined || state.generation !== generation || this.rejection(digest) !== undefined) return;
    const at = this.now() - this.options.recheckMs + Math.min(leftMs, this.options.recheckMs);
    if (state.acceptedAt === undefined || at > state.acceptedAt) state.acceptedAt = at;
  }

  /** The scope's remembered 401, to fail a call with at once. */
  rejection(digest: string): GatewayError | undefined {
    const rejection = this.scopes.get(digest)?.rejection;
    return rejection !== undefined && this.now() < rejection.until ? rejection.error : undefined;
  }

  /**
   * Leave to call the upstream with the scope's credentials (see the class comment). Rejects with
   * the remembered 401, or the signal's reason. Every clearance goes back to {@link settle}.
   */
  async admit(digest: string, signal: AbortSignal): Promise<Clearance> {
    for (;;) {
      const rejection = this.rejection(digest);
      if (rejection !== undefined) throw rejection;
      const state = this.stateOf(digest);
      if (this.recentlyAccepted(state)) return VOUCHED;
      const round = state.round;
      if (round === undefined) {
        let finish!: () => void;
        const settled = new Promise<void>((resolve) => (finish = resolve));
        state.round = { settled, finish, probes: 1, lastStart: this.now() };
        return { kind: 'probe', round: state.round };
      }
      const patience = round.lastStart + PROBE_PATIENCE_MS - this.now();
      if (patience <= 0) {
        round.probes += 1;
        round.lastStart = this.now();
        return { kind: 'probe', round };
      }
      try {
        // At most its patience: then this call probes too.
        await Promise.race([round.settled, sleep(patience, undefined, { signal, ref: false })]);
      } catch {
        throw signal.reason;
      }
      if (round.refusal !== undefined) throw round.refusal;
    }
  }

  settle(digest: string, clearance: Clearance, outcome: CredentialOutcome): void {
    const state = this.stateOf(digest);
    if (outcome.kind === 'accepted') {
      state.acceptedAt = this.now();
      state.rejection = undefined;
    } else if (outcome.kind === 'refused') {
      state.acceptedAt = undefined;
      state.generation = this.nextGeneration++;
      if (this.options.rejectionTtlMs > 0) {
        state.rejection = { error: outcome.error, until: this.now() + this.options.rejectionTtlMs };
      }
    }
    if (clearance.kind !== 'probe') return;
    const { round } = clearance;
    round.probes -= 1;
    if (outcome.kind === 'refused') round.refusal = outcome.error;
    // A verdict ends the round; without one, its last probe does. The round's own handle: the
    // scope may have been forgotten (LRU) and made anew meanwhile, and its waiters must still go.
    if (outcome.kind !== 'unknown' || round.probes === 0) {
      if (state.round === round) state.round = undefined;
      round.finish();
    }
  }

  /**
   * Outermost stage: credentials refused in this operation or recently (a 401) fail at once,
   * without a call; a 401 the call meets is recorded on the operation.
   */
  refusalStage(): CallStage {
    return (next) => async (call) => {
      const refused = call.request.refusal?.error ?? this.rejection(call.digest);
      if (refused !== undefined) throw refused;
      try {
        return await next(call);
      } catch (error) {
        const { refusal } = call.request;
        if (refusal !== undefined && credentialVerdictOf(error) === 'refused') {
          refusal.error ??= error as GatewayError;
        }
        throw error;
      }
    };
  }

  /**
   * Inside the single flight (one clearance per call made): the call goes once the gate lets it,
   * and what it showed is reported back — to the second level too on a 401, so that no replica
   * serves what was kept for the scope.
   */
  stage(secondLevel?: SecondLevel<unknown>): CallStage {
    return (next) => async (call) => {
      let clearance: Clearance;
      try {
        clearance = await this.admit(call.digest, call.signal ?? NEVER);
      } catch (reason) {
        throw classifyTransportError(reason);
      }
      let outcome = UNKNOWN;
      try {
        const answer = await next(call);
        outcome = ACCEPTED;
        return answer;
      } catch (error) {
        outcome = credentialOutcomeOf(error);
        throw error;
      } finally {
        this.settle(call.digest, clearance, outcome);
        // Not awaited: the caller's error need not wait for Redis.
        if (secondLevel !== undefined && outcome.kind === 'refused') void secondLevel.forget(call.digest);
      }
    };
  }

  private recentlyAccepted(state: ScopeState): boolean {
    return state.acceptedAt !== undefined && this.now() - state.acceptedAt <= this.options.recheckMs;
  }

  private stateOf(digest: string): ScopeState {
    let state = this.scopes.get(digest);
    if (state === undefined) {
      state = { acceptedAt: undefined, rejection: undefined, round: undefined, generation: this.nextGeneration++ };
      this.scopes.set(digest, state);
    }
    return state;
  }
}

/** What a failed call says about its credentials, as the failure classifier judged it. */
export function credentialOutcomeOf(error: unknown): CredentialOutcome {
  const verdict = credentialVerdictOf(error);
  if (verdict === 'refused') return { kind: 'refused', error: error as GatewayError };
  return verdict === undefined ? UNKNOWN : ACCEPTED;
}
