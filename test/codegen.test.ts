import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..');

/**
 * The generated resolver types are never edited by hand: they must be exactly what codegen makes
 * of schema/ today. `--check` regenerates in memory and exits non-zero on any difference.
 */
it('has generated resolver types that are up to date with schema/ (run `npm run codegen`)', async () => {
  const bin = join(root, 'node_modules', '.bin', 'graphql-codegen');
  await expect(run(bin, ['--config', 'codegen.yml', '--check'], { cwd: root })).resolves.toBeDefined();
}, 60000);
