interface Flight<T> {
  /** Read only by callers joining while the flight is in the table; dropped when it leaves. */
  promise: Promise<T> | undefined;
  readonly controller: AbortController;
  participants: number;
  /** Whether anyone joined the first caller (see {@link FlightView}). */
  shared: boolean;
}

/** What the call being made can know about its flight. */
export interface FlightView {
  /**
   * Whether a second caller has joined so far. Read when the answer is ready, it is final: the
   * flight leaves the table in the same step, so nobody joins once the answer exists.
   */
  readonly shared: boolean;
}

/**
 * Identical upstream calls in flight at the same time are made once; everyone who asks while the
 * first is running waits for its answer (or its error). Keys are {@link scopeKey}s (a credential digest and the URL), so only
 * callers with the same credentials ever share.
 *
 * Each participant may leave early (its own signal aborts: caller gone, its deadline passed) and
 * is then rejected with its signal's reason; the shared call itself is aborted only when the
 * last participant has left, so one impatient caller never fails the others.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /**
   * @param start makes the call; receives the signal that aborts it when nobody waits any more
   * @param onJoin told when this call joined one already in flight
   */
  run(key: string, signal: AbortSignal | undefined, start: (signal: AbortSignal, flight: FlightView) => Promise<T>, onJoin: () => void): Promise<T> {
    let flight = this.flights.get(key);
    if (flight === undefined) {
      const created = { controller: new AbortController(), participants: 0, shared: false } as Flight<T>;
      this.flights.set(key, created);
      // The flight leaves the table in the same step its answer (or error) is made, not in a later
      // reaction to it: nobody can join a call whose answer already exists (see FlightView).
      const promise = (async () => {
        try {
          return await start(created.controller.signal, created);
        } finally {
          if (this.flights.get(key) === created) this.flights.delete(key);
          // The flight object may outlive its entry: V8 leaves the entries of a Map's hash table in
          // the old table when the Map grows or shrinks into a new one, and until the next full
          // collection that old table keeps them reachable for young-generation collections. A
          // flight that still held its promise kept the upstream answer alive with it, and under
          // concurrent load most cold pages were copied into the old generation that way.
          created.promise = undefined;
        }
      })();
      created.promise = promise;
      // Waiters handle the answer; a flight whose every waiter left before it settled (or one
      // started for a caller already gone) fails with nobody listening, as expected.
      promise.catch(() => {});
      flight = created;
    } else {
      flight.shared = true;
      onJoin();
    }
    return this.wait(flight, signal);
  }

  /** Calls in flight now. */
  get size(): number {
    return this.flights.size;
  }

  private wait(flight: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    // Only flights in the table are waited for, and they still hold their promise.
    const promise = flight.promise!;
    flight.participants += 1;
    if (signal === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        signal.removeEventListener('abort', onAbort);
        flight.participants -= 1;
      };
      const onAbort = () => {
        leave();
        if (flight.participants === 0) flight.controller.abort(signal.reason);
        reject(signal.reason);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (error: unknown) => {
          leave();
          reject(error);
        },
      );
    });
  }
}
