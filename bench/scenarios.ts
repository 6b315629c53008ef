import { SEED } from '../src/simulator';

/**
 * The five scenarios of issue #6, each as a pair of requests: what a frontend sends the gateway,
 * and what it would send a pass-through (the floor, see floor.ts) to get the same upstream data.
 */

export const SCENARIO_IDS = ['S1', 'S2', 'S3', 'S4', 'S5'] as const;
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

/** What one request of a scenario asks: a window of the big engine's list, or the dashboard. */
export type Ask = { kind: 'page'; afterIndex: number | undefined } | { kind: 'dashboard' };

export interface Scenario {
  id: ScenarioId;
  title: string;
  connections: number;
  /** `random` picks a fresh `after` for every request (S5); otherwise every request is the same. */
  ask: Ask | 'random';
}

const DEFAULT_CONNECTIONS = 10;

export const SCENARIOS: Readonly<Record<ScenarioId, Scenario>> = {
  S1: { id: 'S1', title: 'a page (first 20)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'page', afterIndex: undefined } },
  S2: { id: 'S2', title: 'a misaligned page (after item 14)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'page', afterIndex: S2_AFTER_INDEX } },
  S3: { id: 'S3', title: 'dashboard (7 engines, latest job, 5 jobs each)', connections: DEFAULT_CONNECTIONS, ask: { kind: 'dashboard' } },
  S4: { id: 'S4', title: 'hot key (S1, 64 connections)', connections: 64, ask: { kind: 'page', afterIndex: undefined } },
  S5: { id: 'S5', title: 'cold pages (random after)', connections: DEFAULT_CONNECTIONS, ask: 'random' },
};

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
  return { method: 'GET', path: `/jobs?engine=${encodeURIComponent(BIG_ENGINE_ID)}&start=${start}&count=${PAGE_SIZE}`, headers };
}

/**
 * S5's `after`: uniform over the items that still leave a full page behind them, so every
 * window costs the same amount of upstream data. `random` returns a number in [0, 1).
 */
export function randomAfterIndex(totalItems: number, random: () => number): number {
  const choices = totalItems - PAGE_SIZE;
  if (choices < 1) throw new RangeError(`S5 needs more than ${PAGE_SIZE} items, the list has ${totalItems}`);
  return Math.min(choices - 1, Math.floor(random() * choices));
}
