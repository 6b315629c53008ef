/** What the second level answers when it cannot (Redis down or slow): the caller goes on locally. */
export const UNAVAILABLE: unique symbol = Symbol('second level unavailable');

export interface SharedCall {
  readonly key: string;
  readonly cacheable: boolean;
  /** Whose turns a kept answer is read in (nextTurn). */
  readonly caller?: string;
}

/** A call this replica makes for the fleet (with an empty token: for itself, a fresh poll). */
export interface Lease {
  readonly token: string;
  /** The scope's generation when the call began: its answer is kept only if it is still current. */
  readonly generation: string;
}

export type Lookup<A> =
  | { readonly state: 'hit'; readonly answer: A; readonly ttlLeftMs: number; readonly acceptedLeftMs: number }
  /** The answer of the holder this replica waited for (undefined: it failed). */
  | { readonly state: 'handed'; readonly answer: A | undefined }
  /** The call is this replica's to make for the fleet: settle it with `lease`. */
  | { readonly state: 'lease'; readonly lease: Lease }
  /** Another replica holds the call: ask again with `holder`. */
  | { readonly state: 'wait'; readonly holder: string };

/** Redis implements it: kept answers, and a lease that makes identical calls on several replicas one. */
export interface SecondLevel<A, C extends SharedCall = SharedCall> {
  call(digest: string, key: string, cacheable: boolean, caller?: string): C;
  lookup(call: C, token: string, holder: string | undefined): Promise<Lookup<A> | typeof UNAVAILABLE>;
  /** For a call made past the lease (a fresh poll). */
  generation(digest: string): Promise<Lease | typeof UNAVAILABLE>;
  /** Its answer (undefined: it failed) is kept for `ttlMs` (0: not kept) and handed over; `false`
   * when the scope was refused on some replica since the call began (nothing was kept). */
  settle(call: C, lease: Lease, answer: A | undefined, ttlMs: number): Promise<boolean>;
  /** Renews the lease while the call runs: a holder that dies stops, and a waiter takes over. */
  hold(call: C, lease: Lease): () => void;
  /** The upstream refused the scope: nothing kept for it so far is served again, on any replica. */
  forget(digest: string): Promise<void>;
  /** `refused` runs with each scope another replica forgets: its own memory serves the scope no more. */
  onForget(refused: (digest: string) => void): void;
}
