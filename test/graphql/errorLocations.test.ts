import fc from 'fast-check';
import { GraphQLError, parse, Source, visit, type ASTNode } from 'graphql';
import { SEED } from '@cse-jobs-gateway/simulator';
import { locateErrorsByToken } from '../../src/graphql/errorLocations';
import { MAX_ERROR_LOCATIONS } from '../../src/graphql/execution/operationExecutor';
import { CACHES_OFF, startHarness } from '../support/harness';

/** graphql-js's own scan, kept before it is replaced. */
const scanned = (require('graphql/language/location') as typeof import('graphql/language/location')).getLocation;

/** Every node of a document that has a location, the document's own included. */
function located(document: ASTNode): ASTNode[] {
  const nodes: ASTNode[] = [];
  visit(document, { enter: (node) => void (node.loc !== undefined && nodes.push(node)) });
  return nodes;
}

const ignored = fc.array(fc.constantFrom(' ', ',', '\n', '\r', '\r\n', '\t', '# c\n', '# c\r\n', '\ufeff'), { maxLength: 4 }).map((parts) => parts.join(''));
const TOKENS = ['query', 'Q', '(', '$v', ':', 'Int', ')', '{', 'a', ':', 'b', '(', 'x', ':', '"s"', ')', '{', 'c', '}', '...', 'on', 'T', '{', 'd', '}', '}'];

describe("errors' locations from the lexer's tokens", () => {
  locateErrorsByToken();

  it("equal graphql-js's scan for every node of any document, CR, LF and CRLF alike", () => {
    fc.assert(
      fc.property(fc.array(ignored, { minLength: TOKENS.length + 1, maxLength: TOKENS.length + 1 }), (gaps) => {
        const text = TOKENS.map((token, i) => gaps[i] + token).join(' ') + gaps[TOKENS.length];
        for (const node of located(parse(text))) {
          const { source, start } = node.loc!;
          expect(new GraphQLError('e', { nodes: node }).locations).toEqual([scanned(source, start)]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads no text for a node: 100,000 lines before it cost nothing', () => {
    const text = `${'\n'.repeat(100_000)}{ a }`;
    const source = new Source(text);
    const document = parse(source);
    let reads = 0;
    Object.defineProperty(source, 'body', { get: () => (reads++, text) });
    const field = located(document).at(-1)!;
    expect(new GraphQLError('e', { nodes: field }).locations).toEqual([{ line: 100_001, column: 3 }]);
    expect(reads).toBe(0);
  });
});

describe('an execution error of a field merged from many copies', () => {
  it(`names ${MAX_ERROR_LOCATIONS} of its locations`, async () => {
    const h = await startHarness({ ...CACHES_OFF });
    try {
      const copies = 'jobs(first: -1) { totalCount } '.repeat(12);
      const query = `{ engine(id: "${SEED.engines.big}") { jobs(first: 2) { nodes { engine { ${copies}} } } } }`;
      const answered = await h.gql(query);
      const errors = answered.body.errors as unknown as Array<{ locations: Array<{ line: number; column: number }> }>;
      expect(errors).toHaveLength(2);
      for (const error of errors) expect(error.locations).toHaveLength(MAX_ERROR_LOCATIONS);
      const second = query.indexOf('jobs(first: -1)', query.indexOf('jobs(first: -1)') + 1);
      expect(errors[0]!.locations[1]).toEqual({ line: 1, column: second + 1 });
    } finally {
      await h.close();
    }
  });
});
