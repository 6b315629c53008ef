import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { CACHES_OFF } from './support/cachesOff';
import { SEED } from '@cse-jobs-gateway/simulator';
import { buildGateway } from './support/gatewayProcess';

const root = join(__dirname, '..');
let entryPoint: string;
// `npm start` as the quick start runs it: NODE_ENV unset is development.
const BASE_ENV = { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'development', LOG_LEVEL: 'info' };

interface Started {
  child: ChildProcess;
  output: () => string;
}

/**
 * The compiled entry point with `env` on top of BASE_ENV, once its start-up banner is out and its log
 * lines up to "gateway listening" (written asynchronously, they may follow the banner).
 */
async function startEntryPoint(env: Record<string, string> = {}): Promise<Started> {
  let output = '';
  const child = spawn(process.execPath, [entryPoint], { cwd: root, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up banner; output so far:\n${output}`)), 20000);
    const check = () => {
      if (/Example query:[\s\S]*curl/.test(output) && output.includes('"msg":"gateway listening"')) {
        clearTimeout(timer);
        resolve();
      } else setTimeout(check, 50);
    };
    check();
  });
  return { child, output: () => output };
}

async function stop(started: Started | undefined): Promise<void> {
  const child = started?.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  entryPoint = join((await buildGateway()).dir, 'dist', 'main.js');
}, 300_000);

/**
 * The quick start, for real: the compiled entry point with no CSE_ENDPOINT starts the embedded
 * simulator, prints the URL, the demo token and an example query, and answers that query.
 */
describe('npm start (compiled entry point, embedded simulator)', () => {
  let started: Started;
  let output = '';

  beforeAll(async () => {
    // A misspelt setting beside the defaults: the start goes on, with one warning about it.
    started = await startEntryPoint({ CSE_TIMEOUT: '3000' });
    output = started.output();
  }, 30000);

  afterAll(() => stop(started));

  it('prints the URL, an X-Auth-Token line and an example query, and answers it', async () => {
    const url = /Gateway ready at (http:\/\/\S+\/graphql)/.exec(output)?.[1];
    const token = /^X-Auth-Token: (\S+)$/m.exec(output)?.[1];
    const query = /--data '(.+)'$/m.exec(output)?.[1];
    expect(url).toBeDefined();
    expect(token).toBeDefined();
    expect(query).toBeDefined();
    expect(output).toMatch(/embedded CSE simulator/);

    const response = await request(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token! },
      body: query!,
    });
    const body = (await response.body.json()) as { data?: { engines: { totalCount: number; nodes: unknown[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.engines.totalCount).toBeGreaterThan(0);
    expect(body.data!.engines.nodes).toHaveLength(3);
  });

  it('warns once about a variable with our prefix that is no setting, naming the setting it is likely to be', async () => {
    // Log lines are written asynchronously: the warning is out once the later "gateway listening" is.
    const until = Date.now() + 5000;
    while (!started.output().includes('"msg":"gateway listening"') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    const warnings = started.output().split('\n').filter((line) => line.includes('unknown settings'));
    expect(warnings.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'unknown settings ignored: CSE_TIMEOUT (did you mean CSE_TIMEOUT_MS?)' }),
    ]);
  });

  it('prints where the simulator and its controls are: 127.0.0.1:4010 by default, or a free port with a warning where that is taken', async () => {
    const simulator = /^Simulator: (http:\/\/127\.0\.0\.1:(\d+)) \(controls under \1\/__sim\/, see docs\/simulator\.md; SIMULATOR_PORT moves it\)\.$/m.exec(output);
    expect(simulator).not.toBeNull();
    // Another process (a parallel test's gateway) may hold 4010: then the start says so.
    if (simulator![2] !== '4010') expect(output).toContain("the simulator's default port 127.0.0.1:4010 is in use: listening on a free port instead (set SIMULATOR_PORT to choose one)");
    expect(output).toMatch(/^No fault scenario \(SIMULATOR_SCENARIO=<name> starts with one\)\.$/m);
    const live = await request(`${simulator![1]}/__sim/live`);
    expect(((await live.body.json()) as { on: boolean }).on).toBe(true);
  });

  it('runs the simulator in live mode with the demo defaults, and says so in one line', () => {
    expect(output).toMatch(
      /^Live mode is on: running jobs take a step every 12 s \(PreInit → Init → Executing → Finished, task by task: 1 min for a job of 3 tasks\); a new job every 24 s, .*SIMULATOR_LIVE=false turns it off\.$/m,
    );
  });

  it('stops with a message naming the variable when the configuration is bad', async () => {
    const result = await promisify(execFile)(process.execPath, [entryPoint], {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: 'eighty' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((result as { code: number }).code).toBe(1);
    expect((result as { stderr: string }).stderr).toContain('PORT="eighty"');
  });

  it('refuses a bad SIMULATOR_LIVE_OPTIONS at start, in one line naming the variable', async () => {
    const result = await promisify(execFile)(process.execPath, [entryPoint], {
      cwd: root,
      env: { PATH: process.env.PATH, SIMULATOR_LIVE_OPTIONS: '{"tickMs":0}' },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    const { code, stdout, stderr } = result as { code: number; stdout: string; stderr: string };
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      'Invalid configuration: SIMULATOR_LIVE_OPTIONS="{\\"tickMs\\":0}": expected valid live options (live: tickMs must be an integer of at least 1, got 0).',
    ]);
  });
});

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Holds 127.0.0.1:`port` until released. A holder that lets go in the meantime (a parallel test's
 * gateway stopping) would free the port under the test, so it is tried for a while; only a port
 * held for all that time by something else is taken as held.
 */
async function holdPort(port: number): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const holder = createServer();
    const held = await new Promise<boolean>((resolve) => {
      holder.once('error', () => resolve(false));
      holder.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (held) return () => new Promise<void>((resolve) => holder.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return () => Promise.resolve();
}

/** A frontend developer's demo: the simulator where SIMULATOR_PORT says, in a named fault scenario. */
describe('npm start with SIMULATOR_PORT and SIMULATOR_SCENARIO', () => {
  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [entryPoint], { cwd: root, env: { ...BASE_ENV, LOG_LEVEL: 'silent', ...env }, timeout: 20000 }).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('listens on the chosen port, starts in the scenario, and the gateway answers with its partial data', async () => {
    const port = await freePort();
    const started = await startEntryPoint({ SIMULATOR_PORT: String(port), SIMULATOR_SCENARIO: 'partial' });
    try {
      const output = started.output();
      expect(output).toContain(`Simulator: http://127.0.0.1:${port} (controls under http://127.0.0.1:${port}/__sim/`);
      expect(output).toMatch(/^Fault scenario partial: big-engine's job details answer 503: .* curl -X DELETE http:\/\/127\.0\.0\.1:\d+\/__sim\/faults clears it\.$/m);
      const url = /Gateway ready at (http:\/\/\S+\/graphql)/.exec(output)![1]!;
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': /^X-Auth-Token: (\S+)$/m.exec(output)![1]! },
        body: JSON.stringify({ query: '{ engines(first: 8) { nodes { name latestJob { id } } } }' }),
      });
      const body = (await response.body.json()) as { data: { engines: { nodes: Array<{ name: string; latestJob: unknown }> } }; errors: Array<{ extensions: { code: string } }> };
      expect(body.errors.map((error) => error.extensions.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(body.data.engines.nodes.filter((engine) => engine.latestJob === null).map((engine) => engine.name)).toEqual(expect.arrayContaining(['big-engine']));
      expect(body.data.engines.nodes).toHaveLength(8);
    } finally {
      await stop(started);
    }
  }, 30000);

  it('a chosen SIMULATOR_PORT in use: one line naming it, exit 1', async () => {
    const port = await freePort();
    const release = await holdPort(port);
    try {
      const { code, stdout, stderr } = await run({ SIMULATOR_PORT: String(port) });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trimEnd()).toBe(
        `Cannot start the simulator on 127.0.0.1:${port}: the address is already in use (EADDRINUSE). Set SIMULATOR_PORT to a free port (0: any), or stop the process that holds it.`,
      );
    } finally {
      await release();
    }
  });

  it('the default port in use: a free port instead, with a warning, and the banner prints it', async () => {
    const release = await holdPort(4010);
    try {
      const started = await startEntryPoint({ LOG_LEVEL: 'warn' });
      try {
        const output = started.output();
        expect(output).toContain("the simulator's default port 127.0.0.1:4010 is in use: listening on a free port instead (set SIMULATOR_PORT to choose one)");
        const port = /^Simulator: http:\/\/127\.0\.0\.1:(\d+) /m.exec(output)![1];
        expect(port).not.toBe('4010');
      } finally {
        await stop(started);
      }
    } finally {
      await release();
    }
  }, 30000);

  it.each([
    ['SIMULATOR_SCENARIO', 'nope', 'SIMULATOR_SCENARIO="nope": expected one of upstream-down, partial, slow, timeouts, rate-limited, bad-response, unauthenticated'],
    ['SIMULATOR_PORT', '70000', 'SIMULATOR_PORT="70000": expected an integer from 0 to 65535'],
    ['SIMULATOR_PORT', 'http', 'SIMULATOR_PORT="http": expected an integer from 0 to 65535'],
  ])('refuses %s=%s at start, in one line naming the variable', async (name, value, message) => {
    const { code, stdout, stderr } = await run({ [name]: value });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trimEnd()).toBe(`Invalid configuration: ${message}.`);
  });
});

/** What a frontend polling the gateway sees in the demo: jobs that move on their own. */
describe('npm start with SIMULATOR_LIVE_OPTIONS (live progress through the gateway)', () => {
  // Fast ticks; one 2-task job at a time on one engine, replaced on the tick it finishes, so the
  // engine's latestJob is always running and any running job has a new status 3 ticks later.
  const options = { tickMs: 100, taskCount: 2, initialJobs: 1, newJobEveryTicks: 1, maxRunningPerEngine: 1, engineIds: [SEED.engines.empty] };
  let started: Started | undefined;
  let url = '';
  let token = '';

  beforeAll(async () => {
    // Caches off: the gateway's few-second TTLs would hide changes a few hundred ms apart.
    started = await startEntryPoint({ ...CACHES_OFF, SIMULATOR_LIVE_OPTIONS: JSON.stringify(options) });
    url = /Gateway ready at (http:\/\/\S+\/graphql)/.exec(started.output())![1]!;
    token = /^X-Auth-Token: (\S+)$/m.exec(started.output())![1]!;
  }, 30000);

  afterAll(() => stop(started));

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.body.json()) as { data?: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data!;
  }

  it('says in its banner that live mode is on with the given options', () => {
    expect(started!.output()).toMatch(/^Live mode is on: running jobs take a step every 100 ms .*400 ms for a job of 2 tasks.*$/m);
  });

  it("shows a job's status changing between two queries a few hundred ms apart", async () => {
    const engineId = SEED.engines.empty;
    const running = ['PRE_INIT', 'INIT', 'EXECUTING'];
    const latest = async () =>
      (
        await graphql<{ engine: { latestJob: { id: string; status: string } } }>(
          'query Latest($engineId: ID!) { engine(id: $engineId) { latestJob { id status } } }',
          { engineId },
        )
      ).engine.latestJob;
    // latestJob is two upstream reads, the engine's latestJobId then that job: a tick between them
    // (on a loaded host the gap may span several) can finish the job read first. Its replacement
    // is running by then: the next read has it.
    let job = await latest();
    for (let reads = 1; !running.includes(job.status) && reads < 5; reads += 1) job = await latest();
    const { id, status: first } = job;
    expect(running).toContain(first);

    // Three ticks are 300 ms; a loaded machine may fire them late, so look again until 5 s.
    const deadline = Date.now() + 5000;
    let later = first;
    while (later === first && Date.now() < deadline) {
      later = (await graphql<{ job: { status: string } }>('query Job($engineId: ID!, $id: ID!) { job(engineId: $engineId, id: $id) { status } }', { engineId, id })).job.status;
      if (later === first) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(later).not.toBe(first);
  });
});

/** What an operator meets at start-up: one clear line and exit 1, JSON lines only in production. */
describe('start-up as operators meet it', () => {
  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [entryPoint], { cwd: root, env: { PATH: process.env.PATH, HOST: '127.0.0.1', ...env }, timeout: 20000 }).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('refuses NODE_ENV=production without CSE_ENDPOINT instead of serving the simulator, in one JSON line', async () => {
    const { code, stdout, stderr } = await run({ NODE_ENV: 'production', PORT: '0' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', msg: expect.stringMatching(/CSE_ENDPOINT.*EMBEDDED_SIMULATOR=true/) });
  });

  it.each([
    ['development', 'plain'],
    ['production', 'json'],
  ])('a port in use (%s): one %s line naming EADDRINUSE and PORT, no stack trace, exit 1', async (nodeEnv, form) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = String((holder.address() as AddressInfo).port);
    try {
      const { code, stderr } = await run({ NODE_ENV: nodeEnv, PORT: port, EMBEDDED_SIMULATOR: 'true', LOG_LEVEL: 'silent' });
      expect(code).toBe(1);
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const message = form === 'json' ? JSON.parse(lines[0]!).msg : lines[0]!;
      expect(message).toBe(`Cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE). Set PORT to a free port, or stop the process that holds it.`);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses a CSE_ENDPOINT with credentials in one JSON line that shows neither user nor password', async () => {
    const { code, stdout, stderr } = await run({ NODE_ENV: 'production', PORT: '0', CSE_ENDPOINT: 'https://alice:s3cretpw@cse.example.com' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'fatal', msg: expect.stringContaining('CSE_ENDPOINT="https://***@cse.example.com"') });
    expect(stderr).not.toMatch(/s3cretpw|alice/);
  });

  describe('a file setting that names no regular file (a named pipe, a device): one line naming it, at once', () => {
    let dir: string;
    let pipe: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'gw-start-files-'));
      pipe = join(dir, 'pipe');
      execFileSync('mkfifo', [pipe]);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['REDIS_TLS_CA_FILE', 'a named pipe', { REDIS_URL: 'rediss://127.0.0.1:1' }],
      ['REDIS_TLS_CA_FILE', '/dev/zero', { REDIS_URL: 'rediss://127.0.0.1:1' }],
      ['PERSISTED_QUERIES_MANIFEST', 'a named pipe', { PERSISTED_QUERIES: 'safelist' }],
      ['PERSISTED_QUERIES_MANIFEST', '/dev/zero', { PERSISTED_QUERIES: 'safelist' }],
    ])('%s: %s', async (variable, file, env) => {
      const path = file === '/dev/zero' ? file : pipe;
      const started = Date.now();
      const { code, stderr } = await run({ PORT: '0', EMBEDDED_SIMULATOR: 'true', SIMULATOR_PORT: '0', LOG_LEVEL: 'silent', ...env, [variable]: path });
      expect(code).toBe(1);
      expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^Invalid configuration: ${variable}=.*not a regular file`))]);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });

  it('a METRICS_PORT in use: the line names METRICS_PORT and its port, not PORT', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = String((holder.address() as AddressInfo).port);
    try {
      const { code, stderr } = await run({ PORT: '0', METRICS_PORT: port, EMBEDDED_SIMULATOR: 'true', LOG_LEVEL: 'silent' });
      expect(code).toBe(1);
      expect(stderr.trimEnd()).toBe(`Cannot listen on 127.0.0.1:${port}: the address is already in use (EADDRINUSE). Set METRICS_PORT to a free port, or stop the process that holds it.`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('writes only JSON lines in production (EMBEDDED_SIMULATOR=true), the ready line even at LOG_LEVEL=warn', async () => {
    let output = '';
    const child = spawn(process.execPath, [entryPoint], {
      cwd: root,
      env: { ...BASE_ENV, NODE_ENV: 'production', EMBEDDED_SIMULATOR: 'true', LOG_LEVEL: 'warn', METRICS_PORT: '0', SHUTDOWN_DELAY_MS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const until = Date.now() + 20000;
    while (!output.includes('"msg":"gateway listening"') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    await exited;
    const lines = output.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(
      expect.arrayContaining(['gateway listening', 'stopped', "EMBEDDED_SIMULATOR=true: serving the simulator's fake data, not a CSE account's"]),
    );
    expect(output).not.toContain('Gateway ready at');
  });
});
