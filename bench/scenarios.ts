import { SEED } from '@cse-jobs-gateway/simulator';

/**
 * The scenarios, each as a pair of requests: what a frontend sends the gateway, and what it would
 * send a pass-through (the floor, see floor.ts) to get the same upstream data. S1–S5 are issue
 * #6's; S6 (issue #11) is a client that writes its arguments inline, so that every request is a
 * document the gateway has never seen.
 */

export const SCENARIO_IDS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** The several-hundred-job engine of the simulator's seed (350 jobs). */
export const BIG_ENGINE_ID = SEED.engines.big;
export const PAGE_SIZE = 20;
/** S2 asks for the page after this item (0-based), so the window straddles upstream pages. */
export const S2_AFTER_INDEX = 14;
export const DASHBOARD_ENGINES = 7;
export const DASHBOARD_JOBS = 5;

/**
 * S1, S2, S4 and S5 share one document (variables differ), as a real client's would: the
 * gateway parses and validates it once and serves the rest from its document cache.
 */
export const PAGE_QUERY = `query Page($id: ID!, $after: String) {
  engine(id: $id) {
    jobs(first: ${PAGE_SIZE}, after: $after) {
      edges { cursor node { id type status startTime tasks { id name status } } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
}`;

export const DASHBOARD_QUERY = `query Dashboard {
  engines(first: ${DASHBOARD_ENGINES}) {
    nodes { id name status latestJob { id status } jobs(first: ${DASHBOARD_JOBS}) { nodes { id status type } } }
  }
}`;

/** Walks the big engine's list once to learn every cursor (S2 and S5 page after them). */
export const WALK_QUERY = `query Walk($id: ID!, $after: String) {
  engine(id: $id) { jobs(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }
}`;

/**
 * What one request of a scenario asks: a window of the big engine's list (by variables, or
 * `inline`: its `first` and `after` written into the document, which `nonce` makes new), or the dashboard.
 */
export type Ask =
  | { kind: 'page'; afterIndex: number | undefined }
  | { kind: 'inlinePage'; afterIndex: number; first: number; nonce: number }
  | { kind: 'dashboard' };

export interface Scenario {
  id: ScenarioId;
  title: string;
  connections: number;
  /**
   * `random` picks a fresh `after` for every request (S5); `random-inline` a fresh window, written
   * into a new document (S6); otherwise every request is the same.
   */
  ask: Ask | 'random' | 'random-inline';
}

/** As issue 23 measured (and 64 for the hot key). */
const DEFAULT_CONNECTIONS = 16;

export const SCENARIOS: Readonly<Record<ScenarioId, Scenario>> = {
  S1: { id: 'S1', title: 'a page (first 20)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'page', afterIndex: undefined } },
  S2: { id: 'S2', title: 'a misaligned page (after item 14)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'page', afterIndex: S2_AFTER_INDEX } },
  S3: { id: 'S3', title: 'dashboard (7 engines, latest job, 5 jobs each)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'dashboard' } },
  S4: { id: 'S4', title: 'hot key (S1, 64 connections)', connections: 64, ask: { kind: 'page', afterIndex: undefined } },
  S5: { id: 'S5', title: 'cold pages (random after)', connections: DEFAULT_CONNECTIONS, ask: 'random' },
  S6: { id: 'S6', title: 'cold documents (a random window written inline)', connections: DEFAULT_CONNECTIONS, ask: 'random-inline' },
};

/** S6's page sizes: 10 to 30, so windows (and so documents) differ in size as well as position. */
export const S6_FIRST_MIN = 10;
export const S6_FIRST_MAX = 30;

/**
 * S6's document: S1's selection with `first` and `after` written in, and the request's number as a
 * comment, so no two requests send the same text (a client building its documents by hand, or a
 * router's subgraph fetches, rarely repeat one exactly).
 */
export function inlinePageQuery(first: number, after: string, nonce: number): string {
  return `query Page {
  engine(id: ${JSON.stringify(BIG_ENGINE_ID)}) {
    jobs(first: ${first}, after: ${JSON.stringify(after)}) {
      edges { cursor node { id type status startTime tasks { id name status } } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
}
# request ${nonce}`;
}

/** An HTTP request as autocannon sends it. */
export interface HttpAsk {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The gateway's request for an ask. `cursors[i]` is the cursor of item i of the big engine's
 * list (from {@link WALK_QUERY}); the token is the caller's, forwarded upstream as is.
 */
export function gatewayRequest(ask: Ask, cursors: readonly string[], token: string, graphqlPath: string): HttpAsk {
  const headers = { 'content-type': 'application/json', 'x-auth-token': token };
  if (ask.kind === 'dashboard') return { method: 'POST', path: graphqlPath, headers, body: JSON.stringify({ query: DASHBOARD_QUERY }) };
  if (ask.kind === 'inlinePage') {
    const after = cursors[ask.afterIndex];
    if (after === undefined) throw new RangeError(`no cursor for item ${ask.afterIndex}`);
    return { method: 'POST', path: graphqlPath, headers, body: JSON.stringify({ query: inlinePageQuery(ask.first, after, ask.nonce) }) };
  }
  const after = ask.afterIndex === undefined ? undefined : cursors[ask.afterIndex];
  if (ask.afterIndex !== undefined && after === undefined) throw new RangeError(`no cursor for item ${ask.afterIndex}`);
  return { method: 'POST', path: graphqlPath, headers, body: JSON.stringify({ query: PAGE_QUERY, variables: { id: BIG_ENGINE_ID, after } }) };
}

/** The floor's request for the same ask: the item window (page) or the dashboard's fan-out. */
export function floorRequest(ask: Ask, token: string): HttpAsk {
  const headers = { 'x-auth-token': token };
  if (ask.kind === 'dashboard') {
    return { method: 'GET', path: `/dashboard?engines=${DASHBOARD_ENGINES}&jobs=${DASHBOARD_JOBS}`, headers };
  }
  const start = ask.afterIndex === undefined ? 0 : ask.afterIndex + 1;
  const count = ask.kind === 'inlinePage' ? ask.first : PAGE_SIZE;
  return { method: 'GET', path: `/jobs?engine=${encodeURIComponent(BIG_ENGINE_ID)}&start=${start}&count=${count}`, headers };
}

/**
 * S5's `after`: uniform over the items that still leave a full page behind them, so every
 * window costs the same amount of upstream data. `random` returns a number in [0, 1).
 */
export function randomAfterIndex(totalItems: number, random: () => number, pageSize: number = PAGE_SIZE): number {
  const choices = totalItems - pageSize;
  if (choices < 1) throw new RangeError(`S5 needs more than ${pageSize} items, the list has ${totalItems}`);
  return Math.min(choices - 1, Math.floor(random() * choices));
}

/** S6's next ask: a random size and position, and a request number that makes the document new. */
export function randomInlineAsk(totalItems: number, random: () => number, nonce: number): Ask {
  const first = S6_FIRST_MIN + Math.floor(random() * (S6_FIRST_MAX - S6_FIRST_MIN + 1));
  return { kind: 'inlinePage', first, afterIndex: randomAfterIndex(totalItems, random, S6_FIRST_MAX), nonce };
}

/** The scenario's asks, one per request: fixed, or drawn afresh (S5, S6) over a walk of `totalItems` cursors. */
export function askSource(scenario: Scenario, totalItems: number, random: () => number = Math.random): () => Ask {
  const { ask } = scenario;
  if (ask === 'random') return () => ({ kind: 'page', afterIndex: randomAfterIndex(totalItems, random) });
  if (ask === 'random-inline') {
    let nonce = 0;
    return () => randomInlineAsk(totalItems, random, (nonce += 1));
  }
  return () => ask;
}

