import { describeInBrowser } from '../support/browser';

/** The rule every browser test follows when what it needs is missing: skip with one line, or fail under CI. */
describe('describeInBrowser with a prerequisite missing', () => {
  const missing = [{ path: '/nonexistent/node_modules/.bin/vite', provider: 'npm ci --prefix somewhere' }];
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    jest.restoreAllMocks();
  });

  it('skips, saying in one line what is absent and what provides it', () => {
    delete process.env.CI;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(describeInBrowser('the example test', missing)).toBe(describe.skip);
    expect(warn.mock.calls).toEqual([[expect.stringMatching(/^Skipping the example test: .*\/nonexistent\/node_modules\/\.bin\/vite is absent \(npm ci --prefix somewhere\)\.$/)]]);
  });

  it('fails under CI=true, where .ci/run installs it', () => {
    process.env.CI = 'true';
    expect(() => describeInBrowser('the example test', missing)).toThrow(/the example test: .*\/nonexistent\/node_modules\/\.bin\/vite is absent .* under CI=true/);
  });
});
