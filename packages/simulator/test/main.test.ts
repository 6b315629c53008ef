import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from '../src';

const run = promisify(execFile);
/** The package's build, which Jest's global setup brings up to date. */
const main = join(__dirname, '..', 'dist', 'main.js');

describe('the standalone simulator (npm run simulator)', () => {
  it('takes --latency (and LATENCY_MS) and refuses a bad value', async () => {
    const child = spawn(process.execPath, [main, '--latency', '120'], {
      env: { PATH: process.env.PATH, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk) => (output += String(chunk)));
      while (!/listening on (\S+)/.test(output)) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(output).toContain('(+120 ms per answer)');
      const url = /listening on (\S+)/.exec(output)?.[1] ?? '';
      const started = performance.now();
      const response = await fetch(`${url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines`, { headers: { 'x-auth-token': DEMO_TOKEN } });
      await response.text();
      expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }

    const refused = await run(process.execPath, [main], {
      env: { PATH: process.env.PATH, PORT: '0', LATENCY_MS: 'soon' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toContain('latency must be a non-negative number of ms, got "soon"');
  }, 30_000);
});
