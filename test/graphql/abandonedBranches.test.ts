import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GraphQLError } from 'graphql';
import { isAbandonedBranchError } from '../../src/graphql/execution/abandonedBranches';
import { buildGateway, type GatewayBuild } from '../support/gatewayProcess';

/**
 * The premise of the process's unhandled-rejection filter (main.ts), against the graphql-js installed, in
 * a process of its own (Jest keeps unhandled rejections to itself): when a list item fails at once, the
 * rejection of an item before it, still pending, is left unhandled. The filter lets that process live
 * on, and still ends it for any other rejection.
 */
let build: GatewayBuild;
beforeAll(async () => {
  build = await buildGateway();
}, 120_000);

const run = (install: boolean, rejectWith: 'located' | 'error') => {
  const script = `
    const { buildSchema, execute, parse } = require('graphql');
    const { ignoreAbandonedBranches } = require(${JSON.stringify(join(build.dir, 'dist/graphql/execution/abandonedBranches.js'))});
    let ignored = 0;
    if (${install}) ignoreAbandonedBranches(() => (ignored += 1));
    const schema = buildSchema('type Query { items: [Item!] } type Item { value: String! }');
    const later = () => new Promise((_, reject) => setImmediate(() => reject(new Error('later'))));
    const rootValue = { items: [{ value: later }, { value: () => { throw new Error('now'); } }] };
    Promise.resolve(execute({ schema, document: parse('{ items { value } }'), rootValue })).then((result) => {
      process.stdout.write(JSON.stringify(result));
      if (${JSON.stringify(rejectWith)} === 'error') Promise.reject(new Error('a defect'));
      setTimeout(() => process.stdout.write(' lived on, ' + ignored + ' ignored'), 50);
    });`;
  return promisify(execFile)(process.execPath, ['-e', script], { cwd: build.dir }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
};

describe('errors of branches graphql-js abandoned', () => {
  it('end a process that does not filter them: graphql-js leaves them unhandled', async () => {
    const { code, stdout } = await run(false, 'located');
    expect(stdout).toContain('{"errors":[{"message":"now"');
    expect(stdout).not.toContain('lived on');
    expect(code).toBe(1);
  });

  it('do not end the gateway\'s process, which filters them', async () => {
    const { code, stdout } = await run(true, 'located');
    expect(stdout).toContain('"data":{"items":null}');
    expect(stdout).toContain('lived on, 1 ignored');
    expect(code).toBe(0);
  });

  it('are the only rejections the filter lets pass', async () => {
    const { code, stdout, stderr } = await run(true, 'error');
    expect(stdout).not.toContain('lived on');
    expect(stderr).toContain('a defect');
    expect(code).toBe(1);
  });

  it.each([
    ['an Error', new Error('a defect')],
    ['a GraphQLError with no path', new GraphQLError('not located')],
    ['a string', 'text'],
    ['undefined', undefined],
  ])('are never %s', (_name, reason) => {
    expect(isAbandonedBranchError(reason)).toBe(false);
  });

  it('are located GraphQL errors', () => {
    expect(isAbandonedBranchError(new GraphQLError('located', { path: ['items', 0, 'value'] }))).toBe(true);
  });
});
