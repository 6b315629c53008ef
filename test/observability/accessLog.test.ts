import { request } from 'undici';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { buildGateway, startGatewayProcess, type GatewayBuild } from '../support/gatewayProcess';

/**
 * The access log of the real process: lines are batched off the request path (see
 * createProcessLogger), and a graceful stop right after the operations still writes every one.
 */
let build: GatewayBuild;
beforeAll(async () => {
  build = await buildGateway();
}, 300_000);

it('a graceful stop right after N operations leaves exactly N operation lines, each whole', async () => {
  const gateway = await startGatewayProcess(build, {
    NODE_ENV: 'production',
    EMBEDDED_SIMULATOR: 'true',
    SIMULATOR_PORT: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    SHUTDOWN_DELAY_MS: '0',
  });
  try {
    const sent: string[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const ids = Array.from({ length: 30 }, (_, i) => `access-${batch}-${i}`);
      sent.push(...ids);
      const answers = ids.map(async (id) => {
        const response = await request(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN, 'x-request-id': id },
          body: JSON.stringify({ query: 'query Few { engines(first: 2) { nodes { id } } }' }),
        });
        await response.body.dump();
        return response.statusCode;
      });
      expect(new Set(await Promise.all(answers))).toEqual(new Set([200]));
    }
    const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));
    gateway.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const lines = gateway.output().split('\n').filter((line) => line.startsWith('{'));
    const operations = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'graphql operation');
    expect(operations.map((line) => line.requestId).sort()).toEqual([...sent].sort());
    expect(lines.at(-1)).toContain('"msg":"stopped"');
  } finally {
    await gateway.kill();
  }
}, 60_000);
