import { Agent, request } from 'node:http';
import { SEED, startSimulator } from '../src';
import { api, call } from './support';

function getWith(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { 'x-auth-token': 'cse-demo-token-0000000000000001' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('simulator lifecycle', () => {
  it('starts on a free port and reports a URL without a trailing slash', async () => {
    const [a, b] = await Promise.all([startSimulator(), startSimulator()]);
    try {
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(a.url).not.toBe(b.url);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('closes keep-alive sockets and pending latency timers promptly', async () => {
    const sim = await startSimulator();
    const agent = new Agent({ keepAlive: true });
    try {
      expect(await getWith(agent, sim.url + api.engines())).toBe(200);
      sim.injectFault({ route: 'listEngines', latencyMs: 60_000 });
      const pending = getWith(agent, sim.url + api.engines());
      const outcome = pending.then(
        () => 'answered',
        () => 'failed',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await sim.close();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(await outcome).toBe('failed');
      await sim.close();
    } finally {
      agent.destroy();
    }
  });

  it('refuses connections once closed', async () => {
    const sim = await startSimulator();
    await sim.close();
    await expect(call(sim, api.engines())).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const sim = await startSimulator();
    try {
      const port = Number(new URL(sim.url).port);
      await expect(startSimulator({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await sim.close();
    }
  });

  it('answers identically in two runs (no clock, no randomness)', async () => {
    const [a, b] = await Promise.all([startSimulator(), startSimulator()]);
    try {
      for (const path of [api.engines(), api.jobs(SEED.engines.drift), api.job(SEED.engines.big, 10_100)]) {
        expect((await call(a, path)).text).toBe((await call(b, path)).text);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('honours maxLimit', async () => {
    const sim = await startSimulator({ maxLimit: 50 });
    try {
      expect((await call(sim, `${api.jobs(SEED.engines.big)}?limit=50`)).status).toBe(200);
      expect((await call(sim, `${api.jobs(SEED.engines.big)}?limit=51`)).status).toBe(400);
    } finally {
      await sim.close();
    }
  });
});
