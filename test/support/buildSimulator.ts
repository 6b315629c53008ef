import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Jest's global setup: the simulator package's build (dist/ and its declarations), which a gateway
 * compiled by a test loads when CSE_ENDPOINT is unset and type-checks main.ts against. Incremental:
 * nothing is rewritten when the sources have not changed.
 */
export default function buildSimulator(): void {
  const root = join(__dirname, '..', '..');
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/simulator/tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
