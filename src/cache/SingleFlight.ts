/** What the call being made can know about its flight. */
export interface FlightView {
  /** Whether a second caller joined. Final once the answer exists: nobody joins after that. */
  readonly shared: boolean;
}

type Start<T> = (signal: AbortSignal, flight: FlightView) => Promise<T>;

interface Flight<T> {
  /** Read only by callers joining while the flight is in the table; dropped when it leaves. */
  promise?: Promise<T>;
  readonly controller: AbortController;
  participants: number;
  shared: boolean;
}

/**
 * Identical calls in flight at the same time are made once. A participant may leave early (its
 * signal's reason rejects it); the call is aborted only when the last one has left.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** `start` gets the signal that aborts the call when nobody waits any more; `onJoin`, told of a join. */
  run(key: string, signal: AbortSignal | undefined, start: Start<T>, onJoin: () => void): Promise<T> {
    let flight = this.flights.get(key);
    if (flight !== undefined) {
      flight.shared = true;
      onJoin();
    } else {
      const created: Flight<T> = { controller: new AbortController(), participants: 0, shared: false };
      this.flights.set(key, created);
      // The flight leaves the table in the step its answer is made: nobody joins a finished call.
      created.promise = (async () => {
        try {
          return await start(created.controller.signal, created);
        } finally {
          if (this.flights.get(key) === created) this.flights.delete(key);
          // A Map's old hash table may keep the flight reachable: not the answer with it.
          created.promise = undefined;
        }
      })();
      // Waiters handle the answer; a flight whose every waiter left fails with nobody listening.
      created.promise.catch(() => {});
      flight = created;
    }
    return this.wait(flight, signal);
  }

  /** Calls in flight now. */
  get size(): number {
    return this.flights.size;
  }

  private wait(flight: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    const promise = flight.promise!;
    flight.participants += 1;
    if (signal === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        flight.participants -= 1;
        if (flight.participants === 0) flight.controller.abort(signal.reason);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      // One that got the answer stays counted: nobody joins a finished flight, and aborting it is moot.
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}
