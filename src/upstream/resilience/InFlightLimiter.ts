import { classifyTransportError, overloadedError } from '../errorMapping';
import type { AttemptStage } from '../stages/types';

/** Frees a slot taken from an {@link InFlightLimiter}. Calling it more than once does nothing. */
export type Release = () => void;

/** A bound on calls running at once and on calls waiting for a slot. */
export interface SlotBound {
  readonly inFlight: number;
  readonly queue: number;
}

export interface InFlightLimits extends SlotBound {
  /** The share of the slots and the queue one engine, and one caller (credential scope), may hold. */
  readonly perEngine?: SlotBound;
  readonly perCaller?: SlotBound;
}

/** Whose call asks for a slot: the engine it is about (if any) and the caller's scope. */
export interface SlotClaim {
  readonly engine?: string | undefined;
  readonly caller?: string;
}

interface Share {
  active: number;
  queued: number;
}

interface Waiter {
  readonly claim: SlotClaim;
  readonly grant: (release: Release) => void;
}

const NO_CLAIM: SlotClaim = {};

/**
 * A cap on calls running at once, with a bounded queue in front of it, and within both an
 * optional bounded share per engine and per caller, so one slow engine (or busy caller) cannot take
 * every slot and the whole queue. When a bound is full a call is refused at once (load shedding);
 * a queued call whose engine or caller is at its share is passed over, not blocking those behind
 * it. A queued caller whose signal aborts leaves the queue. Share entries exist only while an
 * engine or caller has calls running or queued. The process has one for its upstream requests;
 * each operation one for its own fan-out (no shares, an unbounded queue). Invariant: no accessor
 * properties of its own (p-limit's make V8 keep everything the limiter reached until a full
 * collection; test/memory guards it).
 */
export class InFlightLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly engines = new Map<string, Share>();
  private readonly callers = new Map<string, Share>();

  constructor(
    private readonly limits: InFlightLimits,
    private readonly onChange: (inFlight: number) => void = () => {},
  ) {
    if (!(Number.isSafeInteger(limits.inFlight) && limits.inFlight >= 1)) {
      throw new RangeError(`InFlightLimiter: expected an integer bound of at least 1, got ${limits.inFlight}`);
    }
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Engines and callers with calls running or queued (tests: the maps stay bounded). */
  get tracked(): { engines: number; callers: number } {
    return { engines: this.engines.size, callers: this.callers.size };
  }

  /** A slot, now or once one frees up; `undefined` when the call may neither run nor wait (shed). */
  acquire(claimed: SlotClaim, signal?: AbortSignal): Promise<Release> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const { perEngine, perCaller } = this.limits;
    // Only the shares that are bounded are counted.
    const claim = { engine: perEngine && claimed.engine, caller: perCaller && claimed.caller };
    const engine = claim.engine === undefined ? undefined : share(this.engines, claim.engine);
    const caller = claim.caller === undefined ? undefined : share(this.callers, claim.caller);
    if (this.mayRun(engine, caller)) return Promise.resolve(this.take(claim, engine, caller));
    const full =
      this.queue.length >= this.limits.queue ||
      (engine !== undefined && engine.queued >= perEngine!.queue) ||
      (caller !== undefined && caller.queued >= perCaller!.queue);
    if (full) {
      this.forget(claim);
      return undefined;
    }
    if (engine !== undefined) engine.queued += 1;
    if (caller !== undefined) caller.queued += 1;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) {
          this.queue.splice(index, 1);
          if (engine !== undefined) engine.queued -= 1;
          if (caller !== undefined) caller.queued -= 1;
          this.forget(claim);
        }
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        claim,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Runs `fn` once it has a slot, in arrival order; a synchronous throw becomes a rejection. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const slot = this.acquire(NO_CLAIM);
    if (slot === undefined) throw overloadedError();
    const release = await slot;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** The attempt's slot under the caps, or OVERLOADED at once when none can be had. */
  stage(): AttemptStage {
    return (next) => async (attempt) => {
      const slot = this.acquire({ engine: attempt.engineKey, caller: attempt.digest }, attempt.signal);
      if (slot === undefined) {
        attempt.events.shed?.({ route: attempt.route });
        throw overloadedError();
      }
      let release: Release;
      try {
        release = await slot;
      } catch (reason) {
        throw classifyTransportError(reason);
      }
      attempt.request.events?.inFlight?.(this.active);
      try {
        return await next(attempt);
      } finally {
        release();
        attempt.request.events?.inFlight?.(this.active);
      }
    };
  }

  private mayRun(engine: Share | undefined, caller: Share | undefined): boolean {
    const { perEngine, perCaller } = this.limits;
    return (
      this.active < this.limits.inFlight &&
      (engine === undefined || engine.active < perEngine!.inFlight) &&
      (caller === undefined || caller.active < perCaller!.inFlight)
    );
  }

  private take(claim: SlotClaim, engine: Share | undefined, caller: Share | undefined): Release {
    this.active += 1;
    if (engine !== undefined) engine.active += 1;
    if (caller !== undefined) caller.active += 1;
    this.onChange(this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      if (engine !== undefined) engine.active -= 1;
      if (caller !== undefined) caller.active -= 1;
      this.forget(claim);
      // A slot handed straight to a waiter is reported by `take`.
      if (!this.grantNext()) this.onChange(this.active);
    };
  }

  private grantNext(): boolean {
    for (let index = 0; index < this.queue.length; index += 1) {
      const { claim, grant } = this.queue[index]!;
      const engine = claim.engine === undefined ? undefined : this.engines.get(claim.engine);
      const caller = claim.caller === undefined ? undefined : this.callers.get(claim.caller);
      if (!this.mayRun(engine, caller)) continue;
      this.queue.splice(index, 1);
      if (engine !== undefined) engine.queued -= 1;
      if (caller !== undefined) caller.queued -= 1;
      grant(this.take(claim, engine, caller));
      return true;
    }
    return false;
  }

  private forget(claim: SlotClaim): void {
    if (claim.engine !== undefined) drop(this.engines, claim.engine);
    if (claim.caller !== undefined) drop(this.callers, claim.caller);
  }
}

function share(shares: Map<string, Share>, key: string): Share {
  let found = shares.get(key);
  if (found === undefined) shares.set(key, (found = { active: 0, queued: 0 }));
  return found;
}

function drop(shares: Map<string, Share>, key: string): void {
  const found = shares.get(key);
  if (found !== undefined && found.active === 0 && found.queued === 0) shares.delete(key);
}
