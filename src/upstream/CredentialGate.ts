import { sleepUnlessAborted, type AbortSignalLike } from '../cache/abort';
import { LRUCache } from 'lru-cache';
import type { SecondLevel } from '../cache/secondLevel';
import { CallerShares } from '../cache/callerShares';
import type { GatewayError } from '../errors/GatewayError';
import { credentialVerdictOf, throwClassified } from './errorMapping';
import { NEVER, type CallRequest, type CallStage } from './stages/types';

export interface CredentialGateOptions {
  /** 0: a 401 is not remembered. */
  readonly rejectionTtlMs: number;
  readonly recheckMs: number;
  readonly maxScopes?: number;
  readonly maxStrangers?: number;
  readonly maxScopesPerCaller?: number;
  readonly now?: () => number;
}

export interface ProbeRound {
  readonly settled: Promise<void>;
  readonly finish: () => void;
  probes: number;
  lastStart: number;
  /** A probe's 401: the calls that waited for it fail with it too. */
  refusal?: GatewayError;
}

/** About a hundred bytes a scope: 10 MB at most, and 1 MB for scopes never accepted. */
const MAX_CREDENTIAL_SCOPES = 100_000;
const MAX_STRANGER_SCOPES = 10_000;
/** One token's accepted scopes among the accepted: the upstream accepts a real token under any project
 * it makes up (403), and those must not push out other callers' scopes. */
const MAX_SCOPES_PER_CALLER = 256;

/** Then a waiting call probes too: a probe stuck on a slow engine does not hold a new caller's calls. */
export const PROBE_PATIENCE_MS = 500;

interface ScopeState {
  acceptedAt: number | undefined;
  rejection: { readonly error: GatewayError; readonly until: number } | undefined;
  round: ProbeRound | undefined;
  /** Changes on every 401: answers cached under an earlier generation are never served again. */
  generation: number;
  /** The caller it counts for among the accepted scopes, once there. */
  caller?: string;
}

/** A scope (its credentials' digest) and the caller (token) it belongs to. */
export type GateScope = Pick<CallRequest, 'digest' | 'caller'>;

/** Per replica: a refusal is cheap to learn again and must never outlive its TTL elsewhere. */
export class CredentialGate {
  private readonly scopes: LRUCache<string, ScopeState>;
  /** Scopes never accepted here, until they are, and a caller's past its share of the accepted:
   * made-up tokens, and one token's many projects, push out only each other. */
  private readonly strangers: LRUCache<string, ScopeState>;
  private readonly scopesOfCaller: CallerShares;
  private readonly now: () => number;
  private nextGeneration = 1;
  private readonly acceptedListeners = new Set<(digest: string) => void>();

  constructor(private readonly options: CredentialGateOptions) {
    this.scopesOfCaller = new CallerShares(options.maxScopesPerCaller ?? MAX_SCOPES_PER_CALLER);
    this.scopes = new LRUCache({ max: options.maxScopes ?? MAX_CREDENTIAL_SCOPES, dispose: (state) => this.scopesOfCaller.add(state.caller!, -1) });
    this.strangers = new LRUCache({ max: options.maxStrangers ?? MAX_STRANGER_SCOPES });
    this.now = options.now ?? (() => performance.now());
  }

  /** While cached answers may be served to the scope (answered within recheckMs). */
  generation(digest: string): number | undefined {
    const state = this.find(digest);
    return state !== undefined && this.recentlyAccepted(state) ? state.generation : undefined;
  }

  /** Whether or not cached answers may be served: for acceptedElsewhere. */
  currentGeneration(digest: string): number {
    return this.stateOf(digest).generation;
  }

  /** Another replica saw the scope accepted with `leftMs` of recheckMs left; not past a refusal here. */
  acceptedElsewhere(scope: GateScope, leftMs: number, generation: number): void {
    const state = this.find(scope.digest);
    if (state === undefined || state.generation !== generation || this.rejection(scope.digest) !== undefined) return;
    const at = this.now() - this.options.recheckMs + Math.min(leftMs, this.options.recheckMs);
    if (state.acceptedAt === undefined || at > state.acceptedAt) this.accept(scope, state, at);
  }

  /** Another replica saw the upstream refuse the scope: nothing kept for it here is served again. */
  refusedElsewhere(digest: string): void {
    const state = this.find(digest);
    if (state !== undefined) this.unaccept(state);
  }

  /** Told when a scope never accepted, or refused since, is accepted: it is no longer a stranger. */
  onAccepted(listener: (digest: string) => void): void {
    this.acceptedListeners.add(listener);
  }

  /** Never accepted here, or refused since: its calls are strangers' (and its subscriptions). */
  stranger(digest: string): boolean {
    return this.find(digest)?.acceptedAt === undefined;
  }

  rejection(digest: string): GatewayError | undefined {
    const rejection = this.find(digest)?.rejection;
    return rejection !== undefined && this.now() < rejection.until ? rejection.error : undefined;
  }

  /** `undefined` for a scope answered recently, else a probe, one at a time; rejects with a 401. */
  async admit(digest: string, signal: AbortSignalLike): Promise<ProbeRound | undefined> {
    for (;;) {
      const rejection = this.rejection(digest);
      if (rejection !== undefined) throw rejection;
      const state = this.stateOf(digest);
      if (this.recentlyAccepted(state)) return undefined;
      const round = state.round;
      if (round === undefined) {
        let finish!: () => void;
        const settled = new Promise<void>((resolve) => (finish = resolve));
        return (state.round = { settled, finish, probes: 1, lastStart: this.now() });
      }
      const patience = round.lastStart + PROBE_PATIENCE_MS - this.now();
      if (patience <= 0) {
        round.probes += 1;
        round.lastStart = this.now();
        return round;
      }
      const wait = sleepUnlessAborted(patience, signal, false);
      await Promise.race([round.settled, wait]).catch(() => Promise.reject(signal.reason));
      if (round.refusal !== undefined) throw round.refusal;
    }
  }

  /** `failure`: what the admitted call threw, none if answered; `began`: the generation it began in. */
  settle(scope: GateScope, round: ProbeRound | undefined, failure?: unknown, began?: number): void {
    const state = this.stateOf(scope.digest);
    const verdict = failure === undefined ? 'accepted' : credentialVerdictOf(failure);
    const refusal = verdict === 'refused' ? (failure as GatewayError) : undefined;
    if (refusal !== undefined) {
      this.unaccept(state);
      const ttl = this.options.rejectionTtlMs;
      if (ttl > 0) state.rejection = { error: refusal, until: this.now() + ttl };
    } else if (verdict !== undefined) {
      // Begun before a 401 of the scope, it says nothing of now: the next call asks the upstream.
      if (began === undefined || began === state.generation) this.accept(scope, state, this.now());
      state.rejection = undefined;
    }
    if (round === undefined) return;
    round.probes -= 1;
    if (refusal !== undefined) round.refusal = refusal;
    // The round's own handle: the scope may have been forgotten (LRU) and made anew meanwhile.
    if (verdict !== undefined || round.probes === 0) {
      if (state.round === round) state.round = undefined;
      round.finish();
    }
  }

  /** Outermost: credentials refused in this operation or recently fail at once, without a call. */
  refusalStage(): CallStage {
    return (next) => async (call) => {
      const refused = call.request.refusal?.error ?? this.rejection(call.digest);
      if (refused !== undefined) throw refused;
      try {
        return await next(call);
      } catch (error) {
        const { refusal } = call.request;
        if (refusal && credentialVerdictOf(error) === 'refused') refusal.error ??= error as GatewayError;
        throw error;
      }
    };
  }

  /** Inside the single flight; a 401 makes every replica forget what was kept for the scope. */
  stage(secondLevel?: SecondLevel<unknown>): CallStage {
    return (next) => async (call) => {
      const state = this.stateOf(call.digest);
      const began = state.generation;
      // A scope answered recently, so not refused since, needs no probe: none of admit's promises.
      const probe = this.recentlyAccepted(state) ? undefined : this.admit(call.digest, call.signal ?? NEVER);
      const round = probe && (await probe.catch(throwClassified));
      try {
        const answer = await next(state.acceptedAt === undefined ? { ...call, stranger: true } : call);
        this.settle(call, round, undefined, began);
        return answer;
      } catch (error) {
        this.settle(call, round, error, began);
        // Not awaited: the caller's error need not wait for Redis.
        if (credentialVerdictOf(error) === 'refused') void secondLevel?.forget(call.digest);
        throw error;
      }
    };
  }

  private recentlyAccepted(state: ScopeState): boolean {
    return state.acceptedAt !== undefined && this.now() - state.acceptedAt <= this.options.recheckMs;
  }

  private find(digest: string): ScopeState | undefined {
    return this.scopes.get(digest) ?? this.strangers.get(digest);
  }

  /** Nothing kept under its generation so far is served again, and its next call asks the upstream. */
  private unaccept(state: ScopeState): void {
    state.acceptedAt = undefined;
    state.generation = this.nextGeneration++;
  }

  private accept({ digest, caller }: GateScope, state: ScopeState, at: number): void {
    const stranger = state.acceptedAt === undefined;
    state.acceptedAt = at;
    if (!this.scopesOfCaller.full(caller) && this.strangers.delete(digest)) {
      this.scopesOfCaller.add(caller, 1);
      state.caller = caller;
      this.scopes.set(digest, state);
    }
    if (!stranger) return;
    for (const listener of this.acceptedListeners) {
      try {
        listener(digest);
      } catch {
        // A listener's failure is its own (it logs it): the upstream's answer stands.
      }
    }
  }

  private stateOf(digest: string): ScopeState {
    let state = this.find(digest);
    if (state === undefined) {
      state = { acceptedAt: undefined, rejection: undefined, round: undefined, generation: this.nextGeneration++ };
      this.strangers.set(digest, state);
    }
    return state;
  }
}
