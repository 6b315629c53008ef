import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');

/** The gateway built from this checkout's sources into a directory of its own (tests that need a real process). */
export interface GatewayBuild {
  readonly dir: string;
  remove(): void;
}

export async function buildGateway(): Promise<GatewayBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'cse-gateway-process-'));
  await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: root });
  symlinkSync(join(root, 'schema'), join(dir, 'schema'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
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
