import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** README's map of the house stays true: every path it names exists, and every folder is named. */

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function mapTable(): string {
  const start = readme.indexOf('\n## How a request travels');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  return readme.slice(start, end);
}

/** The code spans of the table's first column: `src/http/`, `src/main.ts`, `test/`… */
function namedPaths(): string[] {
  const rows = mapTable().split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

function foldersOf(dir: string, depth: number): string[] {
  const here = readdirSync(join(root, dir), { withFileTypes: true }).filter((e) => e.isDirectory());
  return here.flatMap((e) => {
    const path = `${dir}/${e.name}/`;
    return depth > 1 ? [path, ...foldersOf(path.slice(0, -1), depth - 1)] : [path];
  });
}

it('names only paths that exist', () => {
  const missing = namedPaths().filter((path) => !existsSync(join(root, path)));
  expect(missing).toEqual([]);
});

it("names every folder of src/ (and its subfolders) and every workspace package", () => {
  const named = new Set(namedPaths());
  const packages = existsSync(join(root, 'packages')) ? foldersOf('packages', 1) : [];
  // A subfolder is named by its own row or by its parent's row naming it (`generated/`, `cache/`).
  const unnamed = [...foldersOf('src', 2), ...packages].filter((folder) => {
    if (named.has(folder)) return false;
    const parts = folder.split('/').filter(Boolean);
    if (parts.length < 3) return true;
    const parentRow = mapTable().split('\n').find((line) => line.startsWith(`| \`${parts.slice(0, -1).join('/')}/\``));
    return !parentRow?.includes(`\`${parts.at(-1)}/\``);
  });
  expect(unnamed).toEqual([]);
});
