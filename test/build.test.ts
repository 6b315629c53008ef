import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';

/**
 * A production build (tsconfig.build.json, as the Dockerfile runs it) compiles src/ and nothing
 * else: the simulator package is read for main.ts's types only, and loaded by main.ts alone, when
 * CSE_ENDPOINT is unset. The image test checks that the image holds none of it.
 */
const root = join(__dirname, '..');
const SIMULATOR = '@cse-jobs-gateway/simulator';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the production build', () => {
  it('compiles src/ only: the simulator is read as declarations, never compiled in', async () => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const { stdout } = await promisify(execFile)(tsc, ['-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: root });
    const files = stdout.split('\n').filter((file) => file !== '' && !file.includes(`${sep}node_modules${sep}`));
    const compiled = files.filter((file) => !file.endsWith('.d.ts')).map((file) => relative(root, file));
    expect(compiled.filter((file) => !file.startsWith(`src${sep}`))).toEqual([]);
    const simulator = files.filter((file) => relative(root, file).startsWith(join('packages', 'simulator')));
    expect(simulator.length).toBeGreaterThan(0);
    for (const file of simulator) expect(relative(root, file)).toMatch(/^packages\/simulator\/dist\/.*\.d\.ts$/);
  }, 60_000);

  it('names the simulator in main.ts alone, which loads it with a require when it starts it', () => {
    const naming = sources(join(root, 'src')).filter((file) => readFileSync(file, 'utf8').includes(SIMULATOR));
    expect(naming.map((file) => relative(root, file))).toEqual([join('src', 'main.ts')]);
    const main = readFileSync(join(root, 'src', 'main.ts'), 'utf8');
    const imports = main.split('\n').filter((line) => line.startsWith('import ') && line.includes(SIMULATOR));
    for (const line of imports) expect(line).toMatch(/^import type /);
    expect(main).toContain(`require('${SIMULATOR}')`);
  });
});
