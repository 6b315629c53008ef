import { printSubgraphSchema } from '@apollo/subgraph';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildGatewaySchema } from '../graphql/buildSchema';

/** The subgraph SDL a router composes (what `_service { sdl }` answers), with the `@link`. */
export function printGatewaySubgraphSdl(): string {
  return printSubgraphSchema(buildGatewaySchema());
}

/** `npm run schema:print [-- <path>]`, for `rover subgraph publish` or CI; `-` is stdout. */
export function runPrintSchema(argv: readonly string[], stdout: NodeJS.WritableStream = process.stdout): string {
  const target = argv[0] ?? 'dist/subgraph.graphql';
  const sdl = `${printGatewaySubgraphSdl().trimEnd()}\n`;
  if (target === '-') {
    stdout.write(sdl);
    return '-';
  }
  const path = resolve(target);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, sdl);
  return path;
}

if (require.main === module) {
  const written = runPrintSchema(process.argv.slice(2));
  if (written !== '-') process.stderr.write(`Wrote the subgraph SDL to ${written}\n`);
}
