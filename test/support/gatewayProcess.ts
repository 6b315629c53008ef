import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { startSimulator, type Simulator, type SimulatorOptions } from '@cse-jobs-gateway/simulator';
import { eventually } from './liveClient';

const root = join(__dirname, '..', '..');

/** A compiled build of this checkout, laid out like an install: schema/ and node_modules/ beside its output. */
export interface GatewayBuild {
  readonly dir: string;
}

/** The gateway as `npm run build` compiles it: `dir`/dist/main.js. */
export function buildGateway(): Promise<GatewayBuild> {
  return sharedBuild('gateway', ['src', 'packages/simulator/src', 'tsconfig.json', 'tsconfig.build.json'], (out) => tsc('tsconfig.build.json', join(out, 'dist')));
}

/** The benchmark CLIs as `npm run bench` compiles them: `dir`/bench/bench/*.js. */
export function buildBench(): Promise<GatewayBuild> {
  return sharedBuild('bench', ['src', 'bench', 'tsconfig.json'], (out) => tsc('bench/tsconfig.json', join(out, 'bench')));
}

// Type errors are the typecheck step's (pretest) to report; tsc emits regardless, and that is enough here.
const tsc = (project: string, outDir: string) =>
  promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project, '--outDir', outDir], { cwd: root }).catch(() => undefined);

/**
 * A compile is the slowest step of a suite that runs a real process, so each build is made once
 * and shared: by every suite of a run (several workers may ask at once: one builds, the others
 * wait for it) and by later runs until one of its inputs changes, since the directory is named
 * after a hash of the inputs. Older builds of this checkout are removed once unused for a day.
 */
async function sharedBuild(name: string, inputs: string[], build: (out: string) => Promise<unknown>): Promise<GatewayBuild> {
  const prefix = `cse-gateway-${createHash('sha256').update(root).digest('hex').slice(0, 8)}-${name}-`;
  const hash = createHash('sha256');
  for (const file of inputs.flatMap((input) => filesOf(join(root, input)))) hash.update(relative(root, file)).update(readFileSync(file));
  const dir = join(tmpdir(), prefix + hash.digest('hex').slice(0, 16));
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 300_000;
  while (!existsSync(dir)) {
    if (Date.now() > deadline) throw new Error(`the ${name} build in ${dir} was not ready within 5 minutes`);
    try {
      mkdirSync(lock);
    } catch {
      // Another worker is building: wait for it, or take over a lock it left when it died.
      await eventually(() => existsSync(dir) || ageMs(lock) === undefined || ageMs(lock)! > 180_000, `the ${name} build`, 200_000);
      if (!existsSync(dir) && (ageMs(lock) ?? 0) > 180_000) rmSync(lock, { recursive: true, force: true });
      continue;
    }
    const out = mkdtempSync(`${dir}.tmp-`);
    try {
      await build(out);
      symlinkSync(join(root, 'schema'), join(out, 'schema'), 'dir');
      symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
      symlinkSync(join(root, 'package.json'), join(out, 'package.json'));
      renameSync(out, dir);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(lock, { recursive: true, force: true });
    }
  }
  utimesSync(dir, new Date(), new Date());
  for (const old of readdirSync(tmpdir()).filter((entry) => entry.startsWith(prefix) && join(tmpdir(), entry) !== dir)) {
    const path = join(tmpdir(), old);
    if ((ageMs(path) ?? 0) > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
  return { dir };
}

/** How long ago `path` was modified; undefined once it is gone (another worker's build or lock may go at any time). */
function ageMs(path: string): number | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? undefined : Date.now() - stat.mtimeMs;
}

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => filesOf(join(path, entry)));
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: URL;
  /** Its /metrics (on METRICS_PORT in production), from its ready line; undefined when beside /graphql. */
  readonly metricsUrl: URL | undefined;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  kill(): Promise<void>;
}

/** Starts the built gateway with node flags of the test's choosing, and waits for its ready line. */
export async function startGatewayProcess(build: GatewayBuild, env: Record<string, string>, nodeFlags: string[] = []): Promise<GatewayProcess> {
  let output = '';
  const child = spawn(process.execPath, [...nodeFlags, join(build.dir, 'dist', 'main.js')], {
    cwd: build.dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const url = await new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up banner; output so far:\n${output.slice(-2000)}`)), 20_000);
      const check = () => {
        const ready = /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/.exec(output);
        if (ready === null) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(new URL(ready[1]!));
      };
      child.stdout!.on('data', check);
      void exited.then(() => reject(new Error(`the gateway exited before it was ready:\n${output.slice(-2000)}`)));
    });
    const metrics = /"metrics":"(http:\/\/[^"]+)","url"/.exec(output)?.[1];
    return { child, url, metricsUrl: metrics === undefined ? undefined : new URL(metrics), output: () => output, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

/** A suite's build, simulator and gateway process, made before its tests and ended after them. */
export function gatewayProcessSuite(
  simulatorOptions: Pick<SimulatorOptions, 'tokens'> = {},
): { readonly simulator: Simulator; start(env: Record<string, string>, nodeFlags?: string[]): Promise<GatewayProcess> } {
  let build: GatewayBuild | undefined;
  let simulator: Simulator | undefined;
  let gateway: GatewayProcess | undefined;
  beforeAll(async () => {
    build = await buildGateway();
    simulator = await startSimulator({ host: '127.0.0.1', port: 0, ...simulatorOptions });
  }, 120_000);
  afterAll(async () => {
    await gateway?.kill();
    await simulator?.close();
  });
  return {
    get simulator() {
      return simulator!;
    },
    async start(env, nodeFlags = []) {
      // One at a time: the one an earlier test of the suite started is stopped, not left running.
      await gateway?.kill();
      gateway = await startGatewayProcess(build!, env, nodeFlags);
      return gateway;
    },
  };
}
