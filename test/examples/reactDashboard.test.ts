import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { CACHES_OFF } from '../support/cachesOff';
import { SEED } from '@cse-jobs-gateway/simulator';
import { describeInBrowser, launchChromium } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';
import { serveStaticSite, type StaticSite } from '../support/staticSite';

/**
 * examples/react-dashboard in a real browser: the app built by Vite, served with /graphql (HTTP
 * and WebSocket) passed to a gateway on the simulator, driven in Debian's Chromium. What a person
 * sees: the engines, an engine's jobs paged with "Load more", a job's tasks, a job moving from
 * PRE_INIT to FINISHED pushed over the WebSocket, and the error states of docs/errors.md.
 *
 * `DASHBOARD_SCREENSHOT=update` writes the screenshot the example's README shows.
 */

const example = join(__dirname, '..', '..', 'examples', 'react-dashboard');
const vite = join(example, 'node_modules', '.bin', 'vite');

describeInBrowser('the React dashboard browser test', [{ path: vite, provider: 'npm ci --prefix examples/react-dashboard' }])(
  'examples/react-dashboard in headless Chromium (gateway on the simulator)',
  () => {
    let h: Harness;
    let site: StaticSite;
    let browser: Browser;
    let page: Page;
    let outDir: string;
    /** 'ok', or what the example's tsc said. */
    let typeCheck: Promise<string>;
    const complaints: string[] = [];
    const bigEngine = { id: SEED.engines.big };

    beforeAll(async () => {
      outDir = mkdtempSync(join(tmpdir(), 'react-dashboard-'));
      // The build, the type check and the gateway are independent: start them at once.
      const built = promisify(execFile)(vite, ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: example });
      // Vite strips types without checking them; the example's own tsc does (its tsconfig, its React types).
      typeCheck = promisify(execFile)(join(example, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: example }).then(
        () => 'ok',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      // Caches off: each view shows what the simulator holds now, faults included. A short poll
      // interval keeps the pushed progress quick.
      h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent', ...CACHES_OFF, SUBSCRIPTION_POLL_MS: '100' });
      await built;
      site = await serveStaticSite(outDir, h.gateway.url);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      page.on('pageerror', (error) => complaints.push(String(error)));
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await site?.close();
      await h?.close();
      if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
    });

    const bannerCode = (code: string) => page.getByTestId(`error-${code}`);

    it('lists the engines, pages an engine\'s jobs with "Load more", and shows a job\'s tasks', async () => {
      await page.goto(site.url);
      const engines = page.getByTestId('engine');
      await engines.first().waitFor();
      const expected = await h.gql('{ engines(first: 20) { nodes { name } } }');
      const names = (expected.body.data.engines.nodes as Array<{ name: string }>).map((engine) => engine.name);
      expect(await page.locator('[data-testid=engine] .name').allInnerTexts()).toEqual(names);

      await engines.filter({ hasText: 'big-engine' }).click();
      const count = page.getByTestId('jobs-count');
      await count.filter({ hasText: '(10 of ' }).waitFor();
      await page.getByTestId('load-more').click();
      await count.filter({ hasText: '(20 of ' }).waitFor();
      const firstTwenty = await h.gql(`{ engine(id: "${bigEngine.id}") { jobs(first: 20) { nodes { id } } } }`);
      const ids = (firstTwenty.body.data.engine.jobs.nodes as Array<{ id: string }>).map((job) => `#${job.id}`);
      expect(await page.locator('[data-testid=job] td:first-child').allInnerTexts()).toEqual(ids);

      await page.getByTestId('job').first().click();
      await page.getByTestId('task').first().waitFor();
      const details = await h.gql(`{ job(engineId: "${bigEngine.id}", id: "${ids[0]!.slice(1)}") { tasks { name } } }`);
      const taskNames = (details.body.data.job.tasks as Array<{ name: string | null }>).map((task) => task.name ?? '');
      expect(await page.locator('[data-testid=task] td:nth-child(2)').allInnerTexts()).toEqual(taskNames);
    }, 30_000);

    it('announces a started job, and shows it move from PRE_INIT to FINISHED, pushed over the WebSocket', async () => {
      const job = h.simulator.startJob(bigEngine.id, { taskCount: 2 });
      // The engine's job events announce it; Refresh shows it.
      await page.getByTestId('new-jobs').filter({ hasText: '1 new job' }).waitFor();
      await page.getByRole('button', { name: 'Refresh' }).click();
      const row = page.getByTestId('job').filter({ hasText: `#${job.id}` });
      await row.click();
      const status = page.getByTestId('job-status');
      await status.filter({ hasText: 'PRE_INIT' }).waitFor();
      await page.getByText('● live').waitFor();

      h.simulator.advanceJob(bigEngine.id, job.id, { to: 'Executing' });
      await status.filter({ hasText: 'EXECUTING' }).waitFor();
      h.simulator.advanceJob(bigEngine.id, job.id, { to: 'Finished' });
      await status.filter({ hasText: 'FINISHED' }).waitFor();
      // The pushed state went into the cache under the job's key: its row in the list follows too.
      await row.locator('.status').filter({ hasText: 'FINISHED' }).waitFor();
      expect(await page.locator('[data-testid=task] td:nth-child(4)').allInnerTexts()).toEqual(['FINISHED', 'FINISHED']);

      const screenshot =
        process.env.DASHBOARD_SCREENSHOT === 'update' ? join(example, 'screenshot.png') : join(outDir, 'screenshot.png');
      await page.screenshot({ path: screenshot });
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    }, 30_000);

    it('shows an injected upstream fault as partial data: the engines listed, one latest job missing, UPSTREAM_UNAVAILABLE', async () => {
      const removeFault = h.simulator.injectFault({ route: 'getJob', engineId: bigEngine.id, status: 503 });
      try {
        await page.reload();
        await bannerCode('UPSTREAM_UNAVAILABLE').waitFor({ timeout: 15_000 });
        expect(await page.locator('.banner.partial').innerText()).toContain('Some data is missing');
        expect(await page.getByTestId('engine').count()).toBe(20);
        const missing = page.getByTestId('engine').filter({ has: page.getByTestId('latest-job-unavailable') });
        expect(await missing.locator('.name').allInnerTexts()).toEqual(['big-engine']);
      } finally {
        removeFault();
      }
    }, 30_000);

    it('shows QUERY_TOO_COMPLEX for a page of engines past the upstream-call budget, and recovers', async () => {
      await page.reload();
      await page.getByTestId('engine').first().waitFor();
      await page.locator('select[name=pageSize]').selectOption('50');
      await bannerCode('QUERY_TOO_COMPLEX').waitFor();
      expect(await page.locator('.banner.failed').innerText()).toContain('choose a smaller page');
      await page.locator('select[name=pageSize]').selectOption('10');
      await page.getByTestId('engine').nth(9).waitFor();
      expect(await page.getByTestId('engine').count()).toBe(10);
    }, 30_000);

    it('shows UNAUTHENTICATED for a bad token, and no engines', async () => {
      await page.locator('input[name=token]').fill('not-a-valid-token');
      await page.getByRole('button', { name: 'Use token' }).click();
      await bannerCode('UNAUTHENTICATED').waitFor();
      expect(await page.getByTestId('engine').count()).toBe(0);
    }, 30_000);

    it('type-checks: its components use the operations as the client preset typed them', async () => {
      expect(await typeCheck).toBe('ok');
    }, 60_000);

    it('raised no script error in the page', () => {
      expect(complaints).toEqual([]);
    });
  },
);
