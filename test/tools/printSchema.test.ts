import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { printGatewaySubgraphSdl, runPrintSchema } from '../../src/tools/printSchema';

describe('npm run schema:print', () => {
  it('writes the Federation 2 subgraph SDL to the given path', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sdl-')), 'nested', 'subgraph.graphql');
    expect(runPrintSchema([path])).toBe(path);
    const sdl = readFileSync(path, 'utf8');
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])');
    expect(sdl).toMatch(/type Engine\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Job\s+@key\(fields: "engineId id"\)/);
    // The federation machinery is the router's business, not part of the published SDL.
    expect(sdl).not.toContain('_entities');
    expect(sdl).toBe(`${printGatewaySubgraphSdl().trimEnd()}\n`);
  });

  it('writes to stdout with "-"', () => {
    let out = '';
    const stdout = new Writable({ write(chunk, _encoding, done) { out += String(chunk); done(); } });
    expect(runPrintSchema(['-'], stdout)).toBe('-');
    expect(out).toContain('type Query');
  });
});
