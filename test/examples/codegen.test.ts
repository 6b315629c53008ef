import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * The examples' generated operation types (examples/typed-client/gql/,
 * examples/react-dashboard/src/gql/) are never edited by hand: they must be exactly what each
 * example's codegen config makes of schema/ and its operations today. `--check` regenerates in
 * memory and exits non-zero on any difference.
 */
it.each(['examples/typed-client/codegen.yml', 'examples/react-dashboard/codegen.yml'])(
  'has generated example types that are up to date with schema/ and the operations (%s; run `npm run codegen:examples`)',
  async (config) => {
    const bin = join(root, 'node_modules', '.bin', 'graphql-codegen');
    await expect(run(bin, ['--config', config, '--check'], { cwd: root })).resolves.toBeDefined();
  },
  60000,
);
