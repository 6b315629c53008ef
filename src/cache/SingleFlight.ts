import { PlainAbort, type AbortSignalLike } from './abort';

/** A flight as its call sees it: `shared`, a second caller joined (final once the answer exists);
 * `participants`, those still waiting. */
export type FlightState = { readonly shared: boolean; readonly participants: number };

type Start<T> = (signal: AbortSignalLike, flight: FlightState) => Promise<T>;

interface Flight<T> {
  promise?: Promise<T>;
  readonly controller: PlainAbort;
  participants: number;
  /** Whether a second caller joined; final once the answer exists. */
  shared: boolean;
}

/** A participant may leave early (rejected with its signal's reason); the call aborts when the last has. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  run(key: string, signal: AbortSignalLike | undefined, start: Start<T>, onJoin: () => void): Promise<T> {
    const joined = this.flights.get(key);
    if (joined !== undefined) {
      joined.shared = true;
      onJoin();
      return this.wait(joined, signal);
    }
    const created: Flight<T> = { controller: new PlainAbort(), participants: 0, shared: false };
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
    // A flight whose every waiter left fails with nobody listening.
    created.promise.catch(() => {});
    return this.wait(created, signal);
  }

  private wait(flight: Flight<T>, signal: AbortSignalLike | undefined): Promise<T> {
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
      const detached = <V>(then: (value: V) => void) => (value: V) => {
        signal.removeEventListener('abort', onAbort);
        then(value);
      };
      promise.then(detached(resolve), detached(reject));
    });
  }
}
