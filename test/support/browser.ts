import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core (never a downloaded browser build). Where it is
 * absent a browser test is skipped with a one-line reason, except under CI=true, where .ci/run
 * installs it and its absence is a broken setup.
 */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * `describe` when everything the test needs is there, else `describe.skip` after one warning line.
 * `needs` adds other prerequisites (a path each, with what provides it), checked the same way.
 */
export function describeInBrowser(what: string, needs: ReadonlyArray<{ path: string; provider: string }> = []): jest.Describe {
  const missing = [{ path: CHROMIUM, provider: "apt-get install chromium" }, ...needs].filter((need) => !existsSync(need.path));
  if (missing.length === 0) return describe;
  const reasons = missing.map((need) => `${need.path} is absent (${need.provider})`).join('; ');
  // Under CI the prerequisites are installed by .ci/run: a missing one is a broken setup, not a reason to skip.
  if (process.env.CI === 'true') throw new Error(`${what}: ${reasons} under CI=true: .ci/run should have installed it.`);
  console.warn(`Skipping ${what}: ${reasons}.`);
  return describe.skip;
}

export function launchChromium(): Promise<Browser> {
  // No sandbox: the tests run as root in containers, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
