import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The example client's generated operation types (examples/typed-client/gql/) are never edited by
 * hand: they must be exactly what its codegen config makes of schema/ and the example's
 * operations today. `--check` regenerates in memory and exits non-zero on any difference.
 */
it('has generated example types that are up to date with schema/ and the operations (run `npm run codegen:examples`)', async () => {
  const bin = join(root, 'node_modules', '.bin', 'graphql-codegen');
  await expect(run(bin, ['--config', 'examples/typed-client/codegen.yml', '--check'], { cwd: root })).resolves.toBeDefined();
}, 60000);
