import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import WebSocket from 'ws';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { buildGateway, startGatewayProcess } from './support/gatewayProcess';

const root = join(__dirname, '..');

/**
 * Graceful shutdown of the real process: the compiled entry point, SIGTERM while a slow query is
 * in flight. Readiness turns false, new connections are refused, the query completes with data,
 * and the process exits 0.
 *
 * A copy of the shared build in a directory of its own, laid out like a production install: the
 * schema beside it, and the package's node_modules WITHOUT its development dependency pino-pretty,
 * which production start must not need.
 */
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cse-gateway-shutdown-'));
  cpSync(join((await buildGateway()).dir, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(root, 'schema'), join(dir, 'schema'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== 'pino-pretty' && name !== '.bin') symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
}, 300_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, [join(dir, 'dist', 'main.js')], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', EMBEDDED_SIMULATOR: 'true', LOG_LEVEL: 'info', METRICS_PORT: '0', SHUTDOWN_DELAY_MS: '0', SIMULATOR_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, output: () => string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Whether a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

it('on SIGTERM: readiness false, new connections refused, the in-flight query completes with data, exit 0', async () => {
  const gateway = start({ SHUTDOWN_DELAY_MS: '500', SHUTDOWN_TIMEOUT_MS: '10000' });
  try {
    const url = await until(() => /"url":"(http:\/\/[^"]+\/graphql)","msg":"gateway listening"/.exec(gateway.output())?.[1], 'the ready log line', gateway.output);
    const token = DEMO_TOKEN;
    const simulator = /"simulator":"(http:\/\/[^"]+)"/.exec(gateway.output())![1]!;
    const port = Number(new URL(url).port);
    expect((await request(new URL('/readyz', url))).statusCode).toBe(200);

    // A slow upstream answer, so the query is still in flight when the signal arrives.
    const fault = await request(new URL('/__sim/faults', simulator), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'listEngines', latencyMs: 4000, times: 1 }),
    });
    expect(fault.statusCode).toBe(201);
    await fault.body.dump();
    let settled = false;
    const slow = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token, 'x-request-id': 'slow-query-1' },
      body: JSON.stringify({ query: 'query Slow { engines(first: 2) { totalCount nodes { id } } }' }),
    }).then(async (response) => ({ status: response.statusCode, body: (await response.body.json()) as any }));
    void slow.finally(() => (settled = true));
    await until(
      async () => {
        const calls = (await (await request(new URL('/__sim/calls', simulator))).body.json()) as { calls: Array<{ route: string; status: number }> };
        return calls.calls.some((call) => call.route === 'listEngines' && call.status === 0) ? true : undefined;
      },
      'the slow upstream call',
      gateway.output,
    );

    gateway.child.kill('SIGTERM');
    // Readiness turns false first (SHUTDOWN_DELAY_MS lets a load balancer see it)…
    const notReady = await until(
      async () => {
        const response = await request(new URL('/readyz', url), { reset: true });
        const body = await response.body.json();
        return response.statusCode === 503 ? body : undefined;
      },
      '/readyz to fail',
      gateway.output,
    );
    expect(notReady).toEqual({ ready: false, reason: 'shutting-down' });
    // …then new connections are refused while the query is still being answered…
    await until(async () => ((await refused(port)) ? true : undefined), 'new connections to be refused', gateway.output);
    expect(settled).toBe(false);

    // …which completes with its data, and the process exits 0.
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.engines.nodes).toHaveLength(2);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });

    const lines = gateway
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{"'))
      .map((line) => JSON.parse(line));
    const messages = lines.map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down: draining in-flight operations', 'stopped']));
    expect(lines.find((line) => line.msg === 'graphql operation' && line.requestId === 'slow-query-1')).toMatchObject({
      operationName: 'Slow',
      outcome: 'success',
    });
    expect(messages.indexOf('stopped')).toBeGreaterThan(messages.indexOf('graphql operation'));
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  }
}, 60_000);

it('exits 0 on SIGINT with nothing in flight', async () => {
  const gateway = start({});
  await until(() => (/"msg":"gateway listening"/.test(gateway.output()) ? true : undefined), 'the ready log line', gateway.output);
  gateway.child.kill('SIGINT');
  expect(await gateway.exited).toEqual({ code: 0, signal: null });
}, 30_000);

it('starts without pino-pretty installed, and refuses LOG_PRETTY=true there with a message saying why', async () => {
  const pretty = start({ LOG_PRETTY: 'true' });
  expect(await pretty.exited).toEqual({ code: 1, signal: null });
  expect(pretty.output()).toContain('LOG_PRETTY=true needs the pino-pretty package');
}, 30_000);

it('lets the last log lines out whole and in order before exiting, even when stdout is read slowly', async () => {
  // A line bigger than a pipe's buffer is still being written when the process means to exit. A
  // bare `process.exit` would flush the line after it synchronously, into the middle of it.
  const script = `
    const { createProcessLogger } = require(${JSON.stringify(join(dir, 'dist', 'observability', 'logger.js'))});
    const log = createProcessLogger('info');
    log.logger.info({ detail: 'x'.repeat(1 << 20) }, 'big');
    log.logger.info('stopped');
    log.close(10000).then(() => process.exit(0));
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.pause();
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.stdout!.resume();
  expect(await exited).toBe(0);
  const lines = output.split('\n').filter((line) => line !== '');
  expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['big', 'stopped']);
}, 30_000);

it('writes a line logged while the logger closes (an operation still finishing), with no error at exit', async () => {
  const script = `
    const { createProcessLogger } = require(${JSON.stringify(join(dir, 'dist', 'observability', 'logger.js'))});
    const log = createProcessLogger('info');
    log.logger.info('before');
    const closing = log.close(10000);
    log.logger.info('while closing');
    closing.then(() => process.exit(0));
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  expect(await new Promise<number | null>((resolve) => child.once('close', resolve))).toBe(0);
  const lines = output.split('\n').filter((line) => line !== '');
  expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg).sort()).toEqual(['before', 'while closing']);
}, 30_000);

it('writes out the lines of a batch not yet written when the process exits without closing the logger (a crash)', async () => {
  // Fewer than a batch: nothing is being written when it exits (pino's exit hook rewrites a write under
  // way from its start, so a test of that case would fail now and then, as it did before batches).
  const script = `
    const { createProcessLogger } = require(${JSON.stringify(join(dir, 'dist', 'observability', 'logger.js'))});
    const log = createProcessLogger('info');
    for (let i = 0; i < 500; i += 1) log.logger.info({ i }, 'line');
    log.logger.info('last');
    setImmediate(() => process.exit(3));
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  expect(await new Promise<number | null>((resolve) => child.once('close', resolve))).toBe(3);
  const lines = output.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { msg: string; i?: number });
  expect(lines.map((line) => line.i ?? line.msg)).toEqual([...Array.from({ length: 500 }, (_, i) => i), 'last']);
}, 30_000);

it('on SIGTERM with subscriptions open: readiness false, every WebSocket closed with 1001, exit 0 within SHUTDOWN_TIMEOUT_MS', async () => {
  const gateway = start({ SHUTDOWN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '5000', SUBSCRIPTION_POLL_MS: '200' });
  try {
    const url = await until(() => /"url":"(http:\/\/[^"]+\/graphql)","msg":"gateway listening"/.exec(gateway.output())?.[1], 'the ready log line', gateway.output);
    const token = DEMO_TOKEN;
    const engines = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: JSON.stringify({ query: '{ engines(first: 3) { nodes { id } } }' }),
    }).then((response) => response.body.json() as Promise<any>);
    const sockets = engines.data.engines.nodes.map(({ id }: { id: string }) => {
      const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
      const closedWith = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': token } }));
      });
      // Subscribe once acknowledged (before that, the protocol closes the socket with 4401).
      socket.once('message', () =>
        socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: `subscription { engineJobEvents(engineId: "${id}") { kind } }` } })),
      );
      return { socket, closedWith };
    });
    await until(() => (gateway.output().split('subscription started').length > sockets.length ? true : undefined), 'the subscriptions', gateway.output);

    const signalled = Date.now();
    gateway.child.kill('SIGTERM');
    expect(await Promise.all(sockets.map(({ closedWith }: { closedWith: Promise<number> }) => closedWith))).toEqual(sockets.map(() => 1001));
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    const messages = gateway.output().split('\n').filter((line) => line.startsWith('{"')).map((line) => JSON.parse(line).msg);
    expect(messages.filter((message) => message === 'subscription ended')).toHaveLength(sockets.length);
    expect(messages.indexOf('stopped')).toBeGreaterThan(messages.lastIndexOf('subscription ended'));
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  }
}, 60_000);

it('on a second SIGTERM: one line saying how many requests it cuts, every line so far written out, exit 1', async () => {
  const gateway = await startGatewayProcess(await buildGateway(), {
    NODE_ENV: 'production', EMBEDDED_SIMULATOR: 'true', HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', SIMULATOR_PORT: '0',
    LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '20000',
  });
  try {
    const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));
    const simulator = /"simulator":"(http:\/\/[^"]+)"/.exec(gateway.output())![1]!;
    const fault = await request(new URL('/__sim/faults', simulator), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'listEngines', latencyMs: 30_000 }),
    });
    await fault.body.dump();
    const send = (id: string, query: string) =>
      request(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN, 'x-request-id': id },
        body: JSON.stringify({ query }),
      }).then(async (response) => (await response.body.text(), response.statusCode), (error: Error) => error.name);
    // Five that the upstream holds (page sizes apart: no two coalesce), and one answered at once.
    const slow = [1, 2, 3, 4, 5].map((first) => send(`slow-${first}`, `{ engines(first: ${first}) { totalCount } }`));
    expect(await send('fast', `{ engine(id: "${SEED.engines.drift}") { id } }`)).toBe(200);
    await until(() => (/"requestId":"fast"/.test(gateway.output()) ? true : undefined), 'the fast request\'s line', gateway.output);

    gateway.child.kill('SIGTERM');
    await until(() => (gateway.output().includes('"msg":"shutting down') ? true : undefined), 'the shutdown line', gateway.output);
    gateway.child.kill('SIGTERM');
    expect(await exited).toBe(1);
    await Promise.all(slow);

    const lines = gateway.output().split('\n').filter((line) => line.startsWith('{"')).map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.msg.startsWith('second signal'))).toEqual([
      expect.objectContaining({ level: 'warn', signal: 'SIGTERM', requestsCut: 5, msg: 'second signal during shutdown: exiting without waiting for in-flight requests' }),
    ]);
    expect(lines.filter((line) => line.msg === 'graphql operation').map((line) => line.requestId)).toEqual(['fast']);
  } finally {
    await gateway.kill();
  }
}, 60_000);
