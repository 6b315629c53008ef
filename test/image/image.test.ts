import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { freePort } from '../support/redisProcess';
import { ensureTestBaseImage, hasCommand, podman, RUN_FLAGS, TEST_BASE_IMAGE } from '../support/podman';

/**
 * The Dockerfile for real (`npm run test:image`, a step of .ci/run of its own: building the base
 * takes minutes): podman builds the image on a Node.js 20 base made here, runs it with a read-only
 * root filesystem against the simulator in a process of its own, and checks what a platform team
 * relies on — probes, a real query, JSON logs, a non-root user, no TypeScript or simulator in the
 * image, and SIGTERM ending in exit 0 within SHUTDOWN_TIMEOUT_MS.
 */
const root = join(__dirname, '..', '..');
const IMAGE = 'localhost/cse-jobs-gateway:test';
const SHUTDOWN_TIMEOUT_MS = 5000;
const missing = ['podman', 'runc', 'mmdebstrap'].filter((command) => !hasCommand(command));
const skip = missing.length > 0;

if (skip) {
  if (process.env.CI === 'true') throw new Error(`the image test needs ${missing.join(', ')} under CI=true (.ci/run installs them)`);
  process.stdout.write(`skipped: the image test needs Debian's ${missing.join(', ')}\n`);
}

(skip ? describe.skip : describe)('the container image', () => {
  let simulator: ChildProcess;
  let simulatorUrl: string;
  let container: string | undefined;
  let port: number;
  let metricsPort: number;

  beforeAll(async () => {
    await ensureTestBaseImage();
    await podman(['build', ...RUN_FLAGS, '--build-arg', `NODE_IMAGE=${TEST_BASE_IMAGE}`, '-t', IMAGE, root], { timeoutMs: 900_000 });
    simulator = spawn(process.execPath, [join(root, 'packages', 'simulator', 'dist', 'main.js')], { env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    simulatorUrl = await new Promise<string>((resolve, reject) => {
      let output = '';
      simulator.stdout!.on('data', (chunk) => {
        output += String(chunk);
        const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
        if (url !== undefined) resolve(url);
      });
      simulator.once('exit', () => reject(new Error(`the simulator exited: ${output}`)));
    });
    const { stdout: size } = await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE]);
    process.stdout.write(`image ${IMAGE}: ${(Number(size.trim()) / 1e6).toFixed(0)} MB\n`);
    port = await freePort();
    metricsPort = await freePort();
    const { stdout } = await podman([
      'run', '--detach', '--read-only', ...RUN_FLAGS,
      '-e', `PORT=${port}`, '-e', `METRICS_PORT=${metricsPort}`, '-e', 'HOST=127.0.0.1',
      '-e', `CSE_ENDPOINT=${simulatorUrl}`, '-e', `CSE_PROJECT_ID=${DEMO_PROJECT_ID}`,
      '-e', 'SHUTDOWN_DELAY_MS=0', '-e', `SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}`,
      IMAGE,
    ]);
    container = stdout.trim();
    const started = Date.now();
    await untilAnswers(`http://127.0.0.1:${port}/readyz`, 30_000);
    process.stdout.write(`ready ${Date.now() - started} ms after podman run returned\n`);
  }, 1_800_000);

  afterAll(async () => {
    if (container !== undefined) await podman(['rm', '--force', container]).catch(() => undefined);
    simulator?.kill();
  });

  it('answers its probes and a real query', async () => {
    expect((await request(`http://127.0.0.1:${port}/healthz`)).statusCode).toBe(200);
    expect((await request(`http://127.0.0.1:${port}/readyz`)).statusCode).toBe(200);
    const response = await request(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
      body: JSON.stringify({ query: '{ engines(first: 2) { totalCount nodes { id name } } }' }),
    });
    const body = (await response.body.json()) as { data?: { engines: { totalCount: number } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.engines.totalCount).toBeGreaterThan(2);
    const metrics = await request(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(await metrics.body.text()).toMatch(/^gateway_/m);
  });

  it('runs as a user other than root, with nothing of TypeScript or the simulator', async () => {
    const { stdout: uid } = await podman(['exec', container!, 'node', '-e', 'process.stdout.write(String(process.getuid()))']);
    expect(uid).not.toBe('0');
    // lstat, not exists: a workspace link left dangling would count too.
    const present = "const fs=require('fs');const at=(p)=>{try{fs.lstatSync(p);return true}catch{return false}};";
    const paths = ['node_modules/typescript', 'dist/simulator', 'src', 'packages', 'node_modules/@cse-jobs-gateway'];
    const { stdout: files } = await podman(['exec', container!, 'node', '-e', `${present}process.stdout.write(JSON.stringify(${JSON.stringify(paths)}.map(at)))`]);
    expect(JSON.parse(files)).toEqual([false, false, false, false, false]);
    // The root filesystem is read-only, and /app is not the user's to write even where it is not.
    const { stdout: writable } = await podman(['exec', container!, 'node', '-e', "try{require('fs').writeFileSync('/app/x','');process.stdout.write('yes')}catch{process.stdout.write('no')}"]);
    expect(writable).toBe('no');
  });

  it('writes JSON log lines', async () => {
    const { stdout, stderr } = await podman(['logs', container!]);
    const lines = (stdout + stderr).split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('drains on SIGTERM and exits 0 within SHUTDOWN_TIMEOUT_MS', async () => {
    const started = Date.now();
    await podman(['kill', '--signal', 'TERM', container!]);
    const { stdout } = await podman(['wait', container!]);
    expect(stdout.trim()).toBe('0');
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  }, 30_000);
});

async function untilAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await request(url)).statusCode === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
