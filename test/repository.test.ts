import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What platform tooling reads from the repository itself: the licence and the Node version. */

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string; engines: { node: string } };

it("has a LICENSE file whose text is package.json's licence", () => {
  expect(pkg.license).toBe('Apache-2.0');
  const text = readFileSync(join(root, 'LICENSE'), 'utf8');
  expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  expect(text).toMatch(/TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
});

it('has an .nvmrc naming a Node.js major that package.json engines accepts, and the one tests run on', () => {
  const nvmrc = readFileSync(join(root, '.nvmrc'), 'utf8').trim();
  expect(nvmrc).toMatch(/^\d+$/);
  const minimum = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
  expect(minimum).not.toBeNull();
  expect(Number(nvmrc)).toBe(Number(minimum![1]));
  expect(process.versions.node.split('.')[0]).toBe(nvmrc);
});
