import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's version and the Node.js version, for `gateway_build_info`. */
export function buildInfo(): { readonly version: string; readonly nodeVersion: string } {
  return { version: packageVersion(), nodeVersion: process.versions.node };
}

let cached: string | undefined;

/** From package.json, two levels up from both src/observability and dist/observability. */
function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    cached = typeof version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
