import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import type { Child } from './childProcess';
import { runLoad } from './loadGenerator';
import { cpuMs, memoryMb } from './procStats';
import type { CacheMode, Sample, TargetName } from './records';
import { askSource, floorRequest, gatewayRequest, type Ask, type HttpAsk, type Scenario, type ScenarioId } from './scenarios';
import type { Servers } from './servers';

/** Where a scenario's load goes, and how each request is made. */
export interface LoadTarget {
  name: TargetName;
  child: Child;
  origin: string;
  next: () => HttpAsk;
}

/** The target's request source for a scenario: fixed asks are encoded once, S5 draws per request. */
export function loadTarget(servers: Servers, target: TargetName, cache: CacheMode, scenario: Scenario): LoadTarget {
  const children = { gateway: servers.gateways.get(cache), floor: servers.floor, ceiling: servers.ceiling, 'gateway-info': servers.infoGateway };
  const child = children[target];
  if (child === undefined) throw new Error(`no ${target} running for cache ${cache}`);
  const cursors = servers.cursors.get(cache) ?? [...servers.cursors.values()][0] ?? [];
  const url = new URL(child.url);
  // The ceiling is sent the gateway's very request.
  const make = (ask: Ask): HttpAsk =>
    target === 'floor' ? floorRequest(ask, DEMO_TOKEN) : gatewayRequest(ask, cursors, DEMO_TOKEN, url.pathname);
  const asks = askSource(scenario, cursors.length);
  // A fixed ask is encoded once: its request is the same every time.
  const fixed = typeof scenario.ask === 'object' ? make(scenario.ask) : undefined;
  const next = fixed === undefined ? () => make(asks()) : () => fixed;
  return { name: target, child, origin: url.origin, next };
}

/** Scenarios whose answer the whole-response cache stores: measured against the ceiling and at LOG_LEVEL=info too. */
export const STORED_SCENARIOS: readonly ScenarioId[] = ['S1', 'S4'];

/** One target's runs in a scenario's rounds; `label` names it in the log. */
export interface RoundRun {
  target: TargetName;
  /** The floor has no cache: its one run a round is the floor of every mode (it carries the first). */
  cache: CacheMode;
  label: string;
}

/**
 * The runs of one round of a scenario, in their order: every target of every cache mode, so that each
 * is compared with its counterparts from the same rounds. The gateway at its defaults runs between the
 * two it is compared with for a stored answer (the ceiling, itself at info), the gateway with its
 * caches off after it and beside the floor.
 */
export function roundRuns(scenario: ScenarioId, caches: readonly CacheMode[], ceiling: boolean): RoundRun[] {
  const stored = ceiling && caches.includes('default') && STORED_SCENARIOS.includes(scenario);
  const runs: RoundRun[] = [];
  const add = (target: TargetName, cache: CacheMode, label: string): void => {
    runs.push({ target, cache, label });
  };
  if (stored) add('ceiling', 'default', 'ceiling');
  if (caches.includes('default')) add('gateway', 'default', 'gateway default');
  if (stored) add('gateway-info', 'default', 'gateway-info');
  if (caches.includes('off')) add('gateway', 'off', 'gateway off');
  add('floor', caches[0] ?? 'off', 'floor');
  return runs;
}

/**
 * Waits until the simulator has seen no new call for a while (a timed run cuts operations off,
 * and a cut-off operation may still be making its calls) and returns the count. Without this,
 * a straggler of one run is counted in the next.
 */
export async function settle(servers: Servers): Promise<number> {
  let count = await servers.simulator.ask<number>({ op: 'count' });
  for (let i = 0; i < 50; i += 1) {
    // Long enough for a straggler on a loaded machine (a background refresh of a cache entry).
    await sleep(servers.latencyMs * 2 + 150);
    const next = await servers.simulator.ask<number>({ op: 'count' });
    if (next === count) break;
    count = next;
  }
  return count;
}

/**
 * One request alone, outside the measurement: a target that answers errors would make every
 * figure meaningless, so the run stops with what the target said. Returns the upstream calls
 * that one operation made by itself — the exact cost of an operation when nothing is cached and
 * no concurrent operation shares its calls (under load, coalescing can bring it below this).
 */
export async function checkAnswers(target: LoadTarget, servers: Servers): Promise<number> {
  await settle(servers);
  await servers.simulator.ask({ op: 'reset' });
  const ask = target.next();
  const response = await request(`${target.origin}${ask.path}`, { method: ask.method, headers: ask.headers, body: ask.body });
  const text = await response.body.text();
  const graphqlErrors = target.name !== 'floor' && text.includes('"errors"');
  if (response.statusCode !== 200 || graphqlErrors) {
    throw new Error(`${target.child.name} answered HTTP ${response.statusCode}: ${text.slice(0, 500)}`);
  }
  return servers.simulator.ask<number>({ op: 'count' });
}

/**
 * One measured run. With `expectedReqPerSec` (from the warm-up or the previous round) the run is
 * a fixed number of requests sized to last about `durationSec`, so none is cut off and the
 * upstream calls per operation are exact; without it, a timed run. The simulator's counter is
 * reset just before and read once stragglers have had time to finish; CPU is the target
 * process's user + system time across the run (so the load generator's own CPU never counts).
 */
export async function measure(
  target: LoadTarget,
  servers: Servers,
  connections: number,
  durationSec: number,
  expectedReqPerSec?: number,
): Promise<Sample> {
  const amount =
    expectedReqPerSec === undefined ? undefined : Math.max(connections * 4, Math.round((expectedReqPerSec * durationSec) / connections) * connections);
  await servers.simulator.ask({ op: 'reset' });
  const cpuBefore = cpuMs(target.child.pid);
  const load = await runLoad({ origin: target.origin, connections, durationSec, amount, next: target.next });
  const cpuAfter = cpuMs(target.child.pid);
  const calls = await settle(servers);
  const completed = Math.max(load.completed, 1);
  return {
    reqPerSec: load.completed / load.durationSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    // Per request SENT: in a timed run an operation cut off at the end may have made its calls.
    upstreamCallsPerOp: calls / Math.max(load.sent, 1),
    cpuMsPerOp: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / completed,
    rssMb: memoryMb(target.child.pid, 'VmHWM'),
    requests: load.completed,
    errors: load.errors,
  };
}
