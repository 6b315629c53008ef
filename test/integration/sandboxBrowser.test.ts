import type { Browser, Page } from 'playwright-core';
import { SANDBOX_UNREACHABLE_HINT, SANDBOX_UNREACHABLE_TITLE } from '../../src/graphql/landingPage';
import { describeInBrowser, launchChromium } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';

/**
 * The Sandbox landing page where Apollo's CDN cannot be reached (every host but the gateway
 * refused, as on an offline network): it says to use EXPLORER=graphiql, at once, without a
 * script error — not Apollo's bare "you might be offline".
 */
describeInBrowser('the Sandbox browser test')('Apollo Sandbox in headless Chromium with the CDN unreachable', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const refused: string[] = [];
  const complaints: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent' });
    browser = await launchChromium();
    page = await browser.newPage();
    const gateway = new URL(h.gateway.url).origin;
    await page.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === gateway) return route.continue();
      refused.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    page.on('pageerror', (error) => complaints.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('names EXPLORER=graphiql where Sandbox would be, and the browser reports no script error', async () => {
    await page.goto(h.gateway.url);
    const fallback = page.locator('.fallback');
    await fallback.getByText(SANDBOX_UNREACHABLE_TITLE).waitFor({ state: 'visible', timeout: 5_000 });
    expect(await fallback.innerText()).toContain(SANDBOX_UNREACHABLE_HINT);
    expect(await fallback.innerText()).not.toMatch(/might be offline/);
    expect(await fallback.evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(element).opacity)).toBe('1');
    expect(await page.locator('#embeddableSandbox').count()).toBe(0);
    expect(refused.some((url) => url.startsWith('https://embeddable-sandbox.cdn.apollographql.com/'))).toBe(true);
    expect(complaints).toEqual([]);
  }, 30_000);
});
