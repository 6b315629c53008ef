import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startChild, type Child } from './childProcess';
import { cpuMs } from './procStats';
import { runLoad } from './loadGenerator';
import { askSource, gatewayRequest, SCENARIOS } from './scenarios';
import { startRedisServer } from '../test/support/redisProcess';
import { median } from './records';
import { gatewayEnv, metricsUrlOf, walkCursors } from './servers';

/**
 * Several replicas (issue 14): what sharing through Redis saves the upstream, and what it costs.
 *
 * 1. Hot clients (S4: 64 connections on one page, caches at their defaults) spread over the
 *    replicas: upstream calls per CACHE_LIST_TTL_MS for the fleet — one replica, three replicas
 *    without Redis, three with one Redis. Target: three with Redis cost what one does.
 * 2. Every request a new document (S6, caches at their defaults) on one replica, Redis off, on,
 *    and on with REDIS_ENCRYPTION_KEY, the three loaded at the same time in each round. Target: Redis costs at most 10% of the
 *    throughput (encryption is reported, without a target of its own).
 *
 * Processes: the simulator, redis-server (Debian's), each gateway as it ships (dist/main.js,
 * production), and this one, the load generator.
 *
 *   node dist/bench/bench/replicas.js [--seconds 10] [--rounds 3] [--latency 5] [--out file.json]
 */

const LIST_TTL_MS = 2000;

interface Options {
  readonly seconds: number;
  readonly rounds: number;
  readonly latencyMs: number;
  readonly gatewayEntry: string;
  readonly out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      latency: { type: 'string', default: '5' },
      gateway: { type: 'string', default: join(__dirname, '..', '..', 'main.js') },
      out: { type: 'string', default: join(__dirname, '..', '..', '..', 'bench', 'results', 'replicas-latest.json') },
    },
  });
  return {
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    latencyMs: Number(values.latency),
    gatewayEntry: values.gateway!,
    out: values.out!,
  };
}

/** Resolves once the gateway whose /metrics is `url` reports `gateway_redis_up 1` there (fails past 10 s). */
async function untilRedisUp(url: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const text = await fetch(url).then((response) => response.text());
    if (/^gateway_redis_up 1$/m.test(text)) return;
    if (Date.now() > end) throw new Error(`${url}: Redis never came up`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const opts = options();
  const here = (file: string) => join(__dirname, file);
  const simulator = await startChild({ name: 'simulator', entry: here('simulatorChild.js'), args: ['--latency', String(opts.latencyMs)], ready: /Simulator ready at (\S+)/, ipc: true });
  const redis = await startRedisServer();
  const running: Child[] = [];
  const gateway = async (name: string, withRedis: boolean, extra: Record<string, string> = {}) => {
    const child = await startChildOnly(name, withRedis, extra);
    // A replica serves before its Redis connection is ready (and then goes alone): measured from
    // the moment it shares, so a cold start is not counted as three replicas' first calls.
    if (withRedis) await untilRedisUp(metricsUrlOf(child));
    return child;
  };
  const startChildOnly = async (name: string, withRedis: boolean, extra: Record<string, string>) => {
    const child = await startChild({
      name,
      entry: opts.gatewayEntry,
      env: { ...gatewayEnv(simulator.url, 'default'), CACHE_LIST_TTL_MS: String(LIST_TTL_MS), ...(withRedis ? { REDIS_URL: redis.url } : {}), ...extra },
      ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/,
    });
    running.push(child);
    return child;
  };
  const stopAll = async () => {
    await Promise.all(running.splice(0).map((child) => child.stop()));
  };
  try {
    const hot = SCENARIOS.S4;
    const hotRun = async (targets: Child[]) => {
      await simulator.ask({ op: 'reset' });
      const connections = Math.floor(hot.connections / targets.length);
      const results = await Promise.all(
        targets.map(async (child, i) => {
          const url = new URL(child.url);
          const cursors: string[] = [];
          const ask = gatewayRequest({ kind: 'page', afterIndex: undefined }, cursors, DEMO_TOKEN, url.pathname);
          // The remainder of 64 goes to the first replica.
          return runLoad({ origin: url.origin, connections: connections + (i === 0 ? hot.connections % targets.length : 0), durationSec: opts.seconds, next: () => ask });
        }),
      );
      const calls = await simulator.ask<number>({ op: 'count' });
      const completed = results.reduce((sum, result) => sum + result.completed, 0);
      const errors = results.reduce((sum, result) => sum + result.errors, 0);
      return { callsPerTtl: round((calls * LIST_TTL_MS) / (opts.seconds * 1000)), calls, requests: completed, errors, reqPerSec: round(completed / opts.seconds) };
    };

    log('hot clients: one replica');
    const one = await hotRun([await gateway('gateway 1 (no Redis)', false)]);
    await stopAll();
    log('hot clients: three replicas without Redis');
    const threeAlone = await hotRun([await gateway('a', false), await gateway('b', false), await gateway('c', false)]);
    await stopAll();
    log('hot clients: three replicas on one Redis');
    const threeShared = await hotRun([await gateway('a+redis', true), await gateway('b+redis', true), await gateway('c+redis', true)]);
    await stopAll();

    log('new documents (S6): one replica each, Redis off, on, and on with REDIS_ENCRYPTION_KEY, side by side');
    const off = await gateway('s6 (no Redis)', false);
    const on = await gateway('s6 (Redis)', true);
    const sealed = await gateway('s6 (Redis, encrypted)', true, { REDIS_ENCRYPTION_KEY: randomBytes(32).toString('base64'), REDIS_KEY_PREFIX: 'bench-sealed:' });
    const cursors = await walkCursors(off.url);
    const s6 = async (child: Child) => {
      const url = new URL(child.url);
      const asks = askSource(SCENARIOS.S6, cursors.length);
      const cpuBefore = cpuMs(child.pid);
      const result = await runLoad({ origin: url.origin, connections: SCENARIOS.S6.connections, durationSec: opts.seconds, next: () => gatewayRequest(asks(), cursors, DEMO_TOKEN, url.pathname) });
      const cpuAfter = cpuMs(child.pid);
      // The gateway's own CPU per operation: on a shared 2-core machine redis-server takes its CPU
      // from the same cores, so throughput alone mixes the gateway's cost with Redis's.
      const cpuMsPerOp = cpuBefore === null || cpuAfter === null ? Number.NaN : (cpuAfter - cpuBefore) / result.completed;
      return { reqPerSec: result.completed / result.durationSec, cpuMsPerOp, errors: result.errors };
    };
    // A short unmeasured run each (V8 warm-up), then the rounds.
    await runLoad({ origin: new URL(off.url).origin, connections: 10, durationSec: 2, next: () => gatewayRequest(askSource(SCENARIOS.S6, cursors.length)(), cursors, DEMO_TOKEN, '/graphql') });
    await runLoad({ origin: new URL(on.url).origin, connections: 10, durationSec: 2, next: () => gatewayRequest(askSource(SCENARIOS.S6, cursors.length)(), cursors, DEMO_TOKEN, '/graphql') });
    await runLoad({ origin: new URL(sealed.url).origin, connections: 10, durationSec: 2, next: () => gatewayRequest(askSource(SCENARIOS.S6, cursors.length)(), cursors, DEMO_TOKEN, '/graphql') });
    const sealedRounds: number[] = [];
    const sealedCpu: number[] = [];
    const offRounds: number[] = [];
    const onRounds: number[] = [];
    const offCpu: number[] = [];
    const onCpu: number[] = [];
    let s6Errors = 0;
    for (let round = 0; round < opts.rounds; round += 1) {
      // At the same time, as duel.ts runs two builds: this machine's speed drifts by ±10% from one
      // run to the next, and side by side all three live through the same drift.
      const [a, b, c] = await Promise.all([s6(off), s6(on), s6(sealed)]);
      sealedRounds.push(c.reqPerSec);
      sealedCpu.push(c.cpuMsPerOp);
      s6Errors += c.errors;
      offRounds.push(a.reqPerSec);
      onRounds.push(b.reqPerSec);
      offCpu.push(a.cpuMsPerOp);
      onCpu.push(b.cpuMsPerOp);
      s6Errors += a.errors + b.errors;
    }
    const offMedian = median(offRounds);
    const onMedian = median(onRounds);
    const result = {
      date: new Date().toISOString(),
      settings: { seconds: opts.seconds, rounds: opts.rounds, latencyMs: opts.latencyMs, listTtlMs: LIST_TTL_MS, hotConnections: hot.connections },
      hot: { oneReplica: one, threeReplicasWithoutRedis: threeAlone, threeReplicasWithRedis: threeShared },
      newDocuments: { redisOffReqPerSec: offRounds.map(round), redisOnReqPerSec: onRounds.map(round), offMedian: round(offMedian), onMedian: round(onMedian), ratio: round(onMedian / offMedian), gatewayCpuMsPerOp: { off: round(median(offCpu)), on: round(median(onCpu)), ratio: round(median(onCpu) / median(offCpu)) }, errors: s6Errors },
      newDocumentsEncrypted: { reqPerSec: sealedRounds.map(round), median: round(median(sealedRounds)), ratioToOff: round(median(sealedRounds) / offMedian), gatewayCpuMsPerOp: round(median(sealedCpu)), cpuRatioToOff: round(median(sealedCpu) / median(offCpu)) },
      targets: {
        fleetCallsLikeOneReplica: { target: 'three replicas with Redis: no more upstream calls than one replica in the same time (+1 for a TTL edge in the whole run)', met: threeShared.calls <= one.calls + 1 },
        newDocumentsCost: { target: 'Redis on: at least 0.9 × the throughput of Redis off (S6)', met: onMedian >= 0.9 * offMedian },
      },
    };
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stopAll();
    await simulator.stop();
    await redis.kill();
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const log = (line: string) => process.stderr.write(`${line}\n`);

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
