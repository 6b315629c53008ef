import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where the SDL lives: `schema/` at the package root (one level above both src/ and dist/). */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

/** The SDL files of `schema/`, the source of truth for the API, read once at start-up. */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}
