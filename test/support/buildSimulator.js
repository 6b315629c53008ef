const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

/**
 * Jest's global setup: the simulator package's build (dist/ and its declarations), which a gateway
 * compiled by a test loads when CSE_ENDPOINT is unset and type-checks main.ts against. Incremental:
 * nothing is rewritten when the sources have not changed.
 */
module.exports = function buildSimulator() {
  const root = join(__dirname, '..', '..');
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/simulator/tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
};
