import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core (no browser download), for the tests that open the
 * explorers in a real browser. Absent, those tests are skipped with a warning; under CI=true its
 * absence is a broken setup and fails.
 */
export const CHROMIUM = '/usr/bin/chromium';

const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') {
  // CI installs Chromium (.ci/run): its absence there is a broken setup, not a reason to skip.
  throw new Error(`${CHROMIUM} is missing under CI=true: .ci/run should have installed Debian's chromium package.`);
}

/** `describe` where Chromium is installed, `describe.skip` (with a warning naming `what`) elsewhere. */
export function describeInBrowser(what: string): jest.Describe {
  if (!available) console.warn(`Skipping ${what}: ${CHROMIUM} is absent (apt-get install chromium).`);
  return available ? describe : describe.skip;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
