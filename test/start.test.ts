import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';

const root = join(__dirname, '..');

/**
 * The quick start, for real: the compiled entry point with no CSE_ENDPOINT starts the embedded
 * simulator, prints the URL, the demo token and an example query, and answers that query.
 */
describe('npm start (compiled entry point, embedded simulator)', () => {
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: root });
    child = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up banner; output so far:\n${output}`)), 20000);
      const check = () => {
        if (/Example query:[\s\S]*curl/.test(output)) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 50);
      };
      check();
    });
  }, 90000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

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

  it('stops with a message naming the variable when the configuration is bad', async () => {
    const result = await promisify(execFile)(process.execPath, [join(root, 'dist', 'main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: 'eighty' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((result as { code: number }).code).toBe(1);
    expect((result as { stderr: string }).stderr).toContain('PORT="eighty"');
  });
});
