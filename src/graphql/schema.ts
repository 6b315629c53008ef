import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** `schema/` at the package root, above both src/ and dist/. */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

export function loadTypeDefs(dir: string = SCHEMA_DIR): string {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}
