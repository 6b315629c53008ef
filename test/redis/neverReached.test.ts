import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/loadConfig';
import { startGateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { eventually, sleep } from '../support/liveClient';
import { describeWithRedis, freePort, startRedisServer, type RedisServer } from '../support/redisServer';

/**
 * A gateway whose REDIS_URL never connects says why, once, at warn: it goes on without Redis,
 * and an operator must not have to guess whether the password, the port or the protocol is wrong.
 */
describeWithRedis('a Redis the gateway never reaches', () => {
  let redis: RedisServer;
  /** Accepts connections and never answers: a firewall's black hole, or the wrong service. */
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    redis = await startRedisServer();
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await redis.kill();
  });

  const silentPort = () => (silent.address() as AddressInfo).port;

  it.each([
    ['a wrong user and password', async () => `redis://gw:s3cretpw@127.0.0.1:${redis.port}`, /WRONGPASS/],
    ['a port nothing listens on', async () => `redis://gw:s3cretpw@127.0.0.1:${await freePort()}`, /ECONNREFUSED/],
    ['a server that never answers', async () => `redis://gw:s3cretpw@127.0.0.1:${silentPort()}`, /timed out/i],
    ['rediss:// against a Redis without TLS', async () => `rediss://gw:s3cretpw@127.0.0.1:${redis.port}`, /ETIMEDOUT|TLS|socket/],
  ])('%s: one warn line with the reason, however often it is retried, never the credentials', async (_what, urlOf, reason) => {
    const url = await urlOf();
    const lines: Array<{ level: string; msg: string; reason?: string; redis?: string }> = [];
    let text = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', REDIS_URL: url, REDIS_TIMEOUT_MS: '100' });
    const gateway = await startGateway(config, { logger: createLogger('info', destination), endpoint: 'http://127.0.0.1:9' });
    try {
      await eventually(() => lines.some((line) => line.msg.startsWith('Redis not reachable')), 'the warn line', 10_000);
      // ioredis goes on reconnecting meanwhile (a backstop's worth for the silent ones): no line for any of it.
      await sleep(3000);
      const aboutRedis = lines.filter((line) => /redis/i.test(line.msg));
      expect(aboutRedis).toEqual([
        expect.objectContaining({ level: 'info', msg: 'sharing state with other replicas through Redis', redis: expect.stringContaining('//***@127.0.0.1:') }),
        expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^Redis not reachable: /), reason: expect.stringMatching(reason) }),
      ]);
      expect(text).not.toMatch(/s3cretpw|gw:/);
    } finally {
      await gateway.close();
    }
  }, 30_000);
});
