import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { startChild, type Child } from './childProcess';
import { metricsUrlOf } from './servers';
import { cpuMs, memoryMb } from './procStats';

/**
 * The subscription benchmark (issue 13): many subscribers over many running jobs, jobs changing
 * every second upstream. What it reports, against the targets:
 * - upstream calls per poll interval (the economy: one per engine page polled, not one per subscriber);
 * - event delivery delay: from the simulator's answer to the poll that saw a change to the client
 *   receiving the event (one machine, one clock), p50/p99, and the gateway's own histogram;
 * - the gateway's peak RSS and its CPU share of the machine's cores.
 *
 * Three processes: the simulator (live mode, steady load), the gateway as it ships (dist/main.js,
 * production) and this one, the load generator (graphql-ws clients over `ws`).
 *
 *   node dist/bench/bench/subscriptions.js [--sockets 400] [--per-socket 25] [--seconds 30] [--poll-ms 2000] [--tokens 1|2] [--out file.json]
 */

const TARGETS = { delayP99Ms: 250, rssMb: 400, cpuShare: 0.73 } as const;

const WATCH = `subscription Watch($engineId: ID!, $id: ID!) {
  jobUpdated(engineId: $engineId, id: $id) { id status startTime endTime tasks { id name status startTime endTime updateTime } }
}`;

interface Options {
  readonly sockets: number;
  readonly perSocket: number;
  readonly seconds: number;
  readonly pollMs: number;
  readonly tokens: number;
  readonly gatewayEntry: string;
  readonly out: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      sockets: { type: 'string', default: '400' },
      'per-socket': { type: 'string', default: '25' },
      seconds: { type: 'string', default: '30' },
      'poll-ms': { type: 'string', default: '2000' },
      // 2: sockets alternate between two tokens of the demo project (two scopes: twice the polls).
      tokens: { type: 'string', default: '1' },
      gateway: { type: 'string', default: join(__dirname, '..', '..', 'main.js') },
      out: { type: 'string', default: join(__dirname, '..', '..', '..', 'bench', 'results', 'subscriptions-latest.json') },
    },
  });
  return {
    sockets: Number(values.sockets),
    perSocket: Number(values['per-socket']),
    seconds: Number(values.seconds),
    pollMs: Number(values['poll-ms']),
    tokens: Math.min(2, Math.max(1, Number(values.tokens))),
    gatewayEntry: values.gateway!,
    out: values.out!,
  };
}

/** One event as the load generator saw it. */
interface Received {
  /** The engine and the token: polls are per scope. */
  readonly scope: string;
  readonly at: number;
}

async function main(): Promise<void> {
  const opts = options();
  const here = (file: string) => join(__dirname, file);
  const simulator = await startChild({ name: 'simulator', entry: here('simulatorChild.js'), args: ['--steady-load'], ready: /Simulator ready at (\S+)/, ipc: true });
  let gateway: Child | undefined;
  const clients: Client[] = [];
  try {
    gateway = await startChild({
      name: 'gateway',
      entry: opts.gatewayEntry,
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: '0',
        CSE_ENDPOINT: simulator.url,
        CSE_PROJECT_ID: DEMO_PROJECT_ID,
        SHUTDOWN_DELAY_MS: '0',
        SUBSCRIPTION_POLL_MS: String(opts.pollMs),
        SUBSCRIPTION_MAX_PER_CONNECTION: String(opts.perSocket),
        // One client address and a token or two stand for many clients: the per-address and per-caller
        // shares (a quarter of each cap) sized to hold the whole load.
        HTTP_MAX_CONNECTIONS: String(4 * opts.sockets + 64),
        HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(4 * opts.sockets + 64),
        SUBSCRIPTION_MAX_SOCKETS: String(4 * opts.sockets),
        SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: String(4 * opts.sockets),
        SUBSCRIPTION_MAX_TOTAL: String(4 * opts.sockets * opts.perSocket),
        METRICS_PORT: '0',
      },
      ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/,
    });
    // Read while the ready line is still in the output's tail.
    const metricsUrl = metricsUrlOf(gateway);
    const running = await simulator.ask<Array<[string, string]>>({ op: 'running' });
    const engines = new Set(running.map(([engineId]) => engineId));
    log(`${running.length} running jobs on ${engines.size} engines; ${opts.sockets} sockets × ${opts.perSocket} subscriptions`);

    // Subscription k watches running job k mod n: every job has about the same number of watchers.
    let measuring = false;
    const received: Received[] = [];
    let firsts = 0;
    let errors = 0;
    const url = gateway.url.replace(/^http/, 'ws');
    for (let s = 0; s < opts.sockets; s += 1) {
      const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { 'X-Auth-Token': s % opts.tokens === 0 ? DEMO_TOKEN : SECOND_TOKEN }, retryAttempts: 0, lazy: true });
      clients.push(client);
      for (let i = 0; i < opts.perSocket; i += 1) {
        const [engineId, jobId] = running[(s * opts.perSocket + i) % running.length]!;
        const token = s % opts.tokens === 0 ? DEMO_TOKEN : SECOND_TOKEN;
        let first = true;
        client.subscribe(
          { query: WATCH, variables: { engineId, id: jobId } },
          {
            next: () => {
              if (first) {
                first = false;
                firsts += 1;
              } else if (measuring) received.push({ scope: `${engineId} ${token}`, at: Date.now() });
            },
            error: () => (errors += 1),
            complete: () => {},
          },
        );
      }
      // Sockets open a few at a time, as clients arrive.
      if (s % 20 === 19) await sleep(50);
    }
    const total = opts.sockets * opts.perSocket;
    const rampUntil = Date.now() + 60_000;
    while (firsts + errors < total && Date.now() < rampUntil) await sleep(100);
    log(`${firsts} subscriptions have their first state (${errors} errors)`);

    // Settle for two intervals, then measure.
    await sleep(2 * opts.pollMs);
    await simulator.ask({ op: 'reset' });
    const cpuBefore = cpuMs(gateway.pid);
    const started = Date.now();
    measuring = true;
    await sleep(opts.seconds * 1000);
    measuring = false;
    const elapsedMs = Date.now() - started;
    const cpuAfter = cpuMs(gateway.pid);
    const answers = await simulator.ask<Array<[string, string, number, string]>>({ op: 'answers' });
    const metrics = await fetch(metricsUrl).then((response) => response.text());
    const rss = memoryMb(gateway.pid, 'VmHWM');
    const rssNow = memoryMb(gateway.pid, 'VmRSS');

    const intervals = elapsedMs / opts.pollMs;
    const callsPerInterval = answers.length / intervals;
    const delays = deliveryDelays(received, answers);
    const cpuShare = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / elapsedMs / 2;
    const result = {
      date: new Date().toISOString(),
      settings: { ...opts, gatewayEntry: undefined, out: undefined, subscriptions: total, runningJobs: running.length, engines: engines.size },
      upstream: { calls: answers.length, callsPerInterval: round(callsPerInterval), byRoute: countBy(answers.map(([route]) => route)) },
      events: { received: received.length, perSecond: round(received.length / (elapsedMs / 1000)), errors },
      deliveryDelayMs: { p50: percentile(delays, 0.5), p99: percentile(delays, 0.99), max: percentile(delays, 1), samples: delays.length },
      gatewayHistogramP99Ms: histogramQuantile(metrics, 'gateway_subscription_event_delay_seconds', 0.99),
      gateway: { rssPeakMb: rss === null ? null : round(rss), rssAtEndMb: rssNow === null ? null : round(rssNow), cpuShareOfTwoCores: cpuShare === null ? null : round(cpuShare) },
      targets: {
        callsPerInterval: {
          target: `at most one per engine page polled (${engines.size} engines × ${opts.tokens} token(s), ≤ 2 pages each)`,
          met: callsPerInterval <= 2 * engines.size * opts.tokens,
        },
        deliveryP99: { target: `≤ ${TARGETS.delayP99Ms} ms`, met: percentile(delays, 0.99) <= TARGETS.delayP99Ms },
        rss: { target: `≤ ${TARGETS.rssMb} MB`, met: rss !== null && rss <= TARGETS.rssMb },
        cpu: { target: `< ${TARGETS.cpuShare * 100}% of two cores`, met: cpuShare !== null && cpuShare < TARGETS.cpuShare },
      },
    };
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await gateway?.stop();
    await simulator.stop();
  }
}

/**
 * For each event: the time since the last answer the simulator gave for its engine and token
 * before the event arrived — the poll that saw the change (one scope's polls of one engine are at
 * least an interval apart).
 */
function deliveryDelays(received: readonly Received[], answers: ReadonlyArray<readonly [string, string, number, string]>): number[] {
  const byEngine = new Map<string, number[]>();
  for (const [, engineId, at, token] of answers) {
    if (at === 0) continue;
    const scope = `${engineId} ${token}`;
    let times = byEngine.get(scope);
    if (times === undefined) byEngine.set(scope, (times = []));
    times.push(at);
  }
  for (const times of byEngine.values()) times.sort((a, b) => a - b);
  const delays: number[] = [];
  for (const event of received) {
    const times = byEngine.get(event.scope);
    if (times === undefined) continue;
    // The last answer at or before the event (binary search).
    let lo = 0;
    let hi = times.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= event.at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found >= 0) delays.push(event.at - times[found]!);
  }
  return delays.sort((a, b) => a - b);
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A quantile of a Prometheus histogram, read from the text exposition (upper bound of the bucket it falls in), ms. */
function histogramQuantile(text: string, name: string, q: number): number | null {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [Number(m[1]), Number(m[2])] as const);
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count === 0) return null;
  const bucket = buckets.find(([, cumulative]) => cumulative >= q * count);
  return bucket === undefined ? null : bucket[0] * 1000;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
