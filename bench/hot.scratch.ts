import { join } from 'node:path';
import { DEMO_TOKEN } from '../src/simulator';
import { startChild } from './childProcess';
import { runLoad } from './loadGenerator';
import { gatewayRequest } from './scenarios';
import { startRedisServer } from '../test/support/redisProcess';
import { gatewayEnv } from './servers';

async function main(): Promise<void> {
  const simulator = await startChild({ name: 'simulator', entry: join(__dirname, 'simulatorChild.js'), args: ['--latency', '5'], ready: /Simulator ready at (\S+)/, ipc: true });
  const redis = await startRedisServer();
  const gws = await Promise.all([0, 1, 2].map((i) => startChild({ name: 'g' + i, entry: join(__dirname, '..', '..', 'main.js'), env: { ...gatewayEnv(simulator.url, 'default'), CACHE_LIST_TTL_MS: '2000', REDIS_URL: redis.url }, ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/ })));
  for (const g of gws) for (;;) { const t = await fetch(new URL('/metrics', g.url)).then((r) => r.text()); if (/^gateway_redis_up 1$/m.test(t)) break; await new Promise((r) => setTimeout(r, 20)); }
  await simulator.ask({ op: 'reset' });
  const t0 = Date.now();
  await Promise.all(gws.map((g) => { const url = new URL(g.url); const ask = gatewayRequest({ kind: 'page', afterIndex: undefined }, [], DEMO_TOKEN, url.pathname); return runLoad({ origin: url.origin, connections: 21, durationSec: 12, next: () => ask }); }));
  const answers = await simulator.ask<Array<[string, string, number, string]>>({ op: 'answers' });
  console.log(answers.map(([route, , at]) => `${route} ${at - t0}`).join('\n'));
  for (const g of gws) { const t = await fetch(new URL('/metrics', g.url)).then((r) => r.text()); console.log(t.split('\n').filter((l) => /^gateway_(upstream_cache|upstream_coalesced|redis_errors)/.test(l)).join('\n')); }
  await Promise.all(gws.map((g) => g.stop())); await simulator.stop(); await redis.kill();
}
void main();
