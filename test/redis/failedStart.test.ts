import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { startGateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { DEMO_PROJECT_ID, type Simulator } from '@cse-jobs-gateway/simulator';
import { describeWithRedis, freePort, type RedisServer } from '../support/redisServer';
import { PREFIX, useRedisSuite } from '../support/replicas';

/**
 * A gateway whose start fails after it opened its Redis connection (a port in use, a bad
 * manifest) closes it, and everything else it had opened, before the start rejects.
 */

const INSPECTOR = 'failed-start-inspector';

/** A TCP listener on 127.0.0.1 holding `port` (what makes the gateway's listen fail with EADDRINUSE). */
async function hold(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

async function release(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describeWithRedis('a gateway start that fails', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite), { connectionName: INSPECTOR });

  /** Connections to the test Redis other than the inspector's (CLIENT LIST). */
  async function gatewayConnections(): Promise<string[]> {
    const list = (await inspector.client('LIST')) as string;
    return list.split('\n').filter((line) => line.trim() !== '' && !line.includes(`name=${INSPECTOR}`));
  }

  /** Waits (bounded) until Redis has seen every gateway connection go. */
  async function untilNoGatewayConnection(): Promise<string[]> {
    const end = Date.now() + 3000;
    for (;;) {
      const open = await gatewayConnections();
      if (open.length === 0 || Date.now() > end) return open;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Starts a gateway on Redis with `env`; returns what the start rejected with. */
  async function failedStart(env: Record<string, string>, { connected = true } = {}): Promise<unknown> {
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      CSE_PROJECT_ID: DEMO_PROJECT_ID,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: PREFIX,
      SUBSCRIPTION_POLL_MS: '200',
      ...env,
    });
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const accepted = await connectionsReceived();
    const outcome = await startGateway(config, { logger: createLogger('info', silent), endpoint: simulator.url }).then(
      async (gateway) => {
        await gateway.close();
        return new Error('the gateway started');
      },
      (error: unknown) => error,
    );
    // The gateway had connected to Redis: what is checked next is that it closed what it opened.
    if (connected) expect(await connectionsReceived()).toBeGreaterThan(accepted);
    return outcome;
  }

  async function connectionsReceived(): Promise<number> {
    const stats = await inspector.info('stats');
    return Number(/total_connections_received:(\d+)/.exec(stats)?.[1]);
  }

  it('closes its Redis connection when the port is in use (EADDRINUSE)', async () => {
    expect(await gatewayConnections()).toEqual([]);
    const port = await freePort();
    const held = await hold(port);
    try {
      const error = await failedStart({ PORT: String(port) });
      expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      expect(await untilNoGatewayConnection()).toEqual([]);
    } finally {
      await release(held);
    }
  });

  it('closes its Redis connection, and the port it listened on, when a later step fails (METRICS_PORT in use)', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const held = await hold(metricsPort);
    try {
      const error = await failedStart({ PORT: String(port), METRICS_PORT: String(metricsPort) });
      expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      expect(await untilNoGatewayConnection()).toEqual([]);
      // The HTTP port it had listened on is free again.
      await release(await hold(port));
    } finally {
      await release(held);
    }
  });

  it('closes its Redis connection when the persisted query manifest cannot be read', async () => {
    // This one fails before the connection is even made: it must not be made later either.
    const accepted = await connectionsReceived();
    const error = await failedStart({ PORT: '0', PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: '/nonexistent/manifest.json' }, { connected: false });
    expect(error).toBeInstanceOf(ConfigError);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await gatewayConnections()).toEqual([]);
    expect(await connectionsReceived()).toBe(accepted);
  });
});
