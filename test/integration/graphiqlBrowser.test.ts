import type { Browser, Page } from 'playwright-core';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { describeInBrowser, launchChromium } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';

/**
 * EXPLORER=graphiql in a real browser: Debian's Chromium, driven by playwright-core (no browser
 * download). The page loads only from the gateway, the demo token is preset, and an operation
 * run from GraphiQL's own UI shows the simulator's data in the result pane.
 */

describeInBrowser('the GraphiQL browser test')('GraphiQL in headless Chromium (EXPLORER=graphiql, on the simulator)', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  /** Every URL the page asked for, whatever the host. */
  const requested: string[] = [];
  /** What the browser said about the page: CSP violations, script errors. */
  const complaints: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent', EXPLORER: 'graphiql' }, { presetDemoToken: true });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') complaints.push(message.text());
    });
    page.on('pageerror', (error) => complaints.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('runs a query typed into the URL with the preset demo token and shows the data', async () => {
    const query = '{ engines(first: 2) { nodes { id name } } }';
    await page.goto(`${h.gateway.url}?query=${encodeURIComponent(query)}`);
    await page.locator('.graphiql-execute-button').click();

    const expected = await h.gql(query);
    const firstName: string = expected.body.data.engines.nodes[0].name;
    const result = page.locator('.result-window');
    await result.getByText(firstName).waitFor({ timeout: 15_000 });
    const shown = await result.innerText();
    expect(shown).toContain('"engines"');
    for (const node of expected.body.data.engines.nodes as Array<{ id: string; name: string }>) {
      expect(shown).toContain(node.id);
      expect(shown).toContain(node.name);
    }
    expect(shown).not.toContain('UNAUTHENTICATED');

    // The token came from the preset headers, not from anything the test typed.
    expect(await page.locator('.graphiql-editor-tool').innerText()).toContain(DEMO_TOKEN);
  }, 60_000);

  it("lists the API's types in the documentation pane, not the federation plumbing", async () => {
    await page.goto(h.gateway.url);
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('JobConnection').waitFor({ timeout: 15_000 });
    const shown = await docs.innerText();
    for (const type of ['Engine', 'Job', 'PageInfo', 'JobEventKind']) expect(shown).toContain(type);
    for (const plumbing of ['_Any', '_Entity', '_Service', 'link__Purpose', 'link__Import', 'federation__FieldSet']) expect(shown).not.toContain(plumbing);
    await docs.getByRole('link', { name: 'Query' }).first().click();
    await docs.getByText('engines').first().waitFor({ timeout: 15_000 });
    const query = await docs.innerText();
    expect(query).not.toContain('_service');
    expect(query).not.toContain('_entities');
  }, 60_000);

  it('asked no host but the gateway, and the browser reported no CSP violation or script error', () => {
    const gateway = new URL(h.gateway.url).origin;
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== gateway)).toEqual([]);
    expect(complaints).toEqual([]);
  });
});
