import fc from 'fast-check';
import { GraphQLError, parse, Source, type OperationDefinitionNode } from 'graphql';
import { indexedLocation, indexedSources, indexErrorLocations, MAX_ERROR_LOCATIONS } from '../../src/graphql/errorLocations';

/** graphql-js's own, kept before it is replaced. */
const scanned = (require('graphql/language/location') as typeof import('graphql/language/location')).getLocation;

describe("errors' locations from an index of the source's line breaks", () => {
  it("equals graphql-js's scan for any text and position, CR, LF and CRLF alike", () => {
    const text = fc.array(fc.constantFrom('a', ' ', '\n', '\r', '\r\n', '#'), { maxLength: 60 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.nat(), (body, offset) => {
        const source = new Source(body);
        const position = offset % (body.length + 1);
        expect(indexedLocation(source, position)).toEqual(scanned(source, position));
      }),
      { numRuns: 2000 },
    );
  });

  it("is what every GraphQLError reads once installed, with graphql-js's lines and columns", () => {
    const document = parse(`${'# a comment\r\n'.repeat(3)}query {\n  engines { totalCount }\r  nope\n}`);
    const operation = document.definitions[0]!;
    const before = new GraphQLError('before', { nodes: operation }).locations;
    indexErrorLocations();
    const location = require('graphql/language/location') as { getLocation: unknown; getLocations: unknown };
    expect(location.getLocation).toBe(indexedLocation);
    expect(new GraphQLError('after', { nodes: operation }).locations).toEqual(before);
    expect(before).toEqual([{ line: 4, column: 1 }]);
  });

  it('keeps the line breaks of the last 8 sources only: a store of long documents holds no index of each', () => {
    const sources = Array.from({ length: 20 }, (_, i) => new Source(`${'\n'.repeat(100_000)}{ f${i} }`));
    for (const source of sources) expect(indexedLocation(source, 100_002)).toEqual({ line: 100_001, column: 3 });
    expect(indexedSources()).toBe(8);
    // An evicted source is indexed again, and answers the same.
    expect(indexedLocation(sources[0]!, 100_002)).toEqual(scanned(sources[0]!, 100_002));
    expect(indexedSources()).toBe(8);
  });

  it('names at most MAX_ERROR_LOCATIONS of a merged field\'s nodes', () => {
    indexErrorLocations();
    const document = parse(`{ ${'a '.repeat(30)}}`);
    const selections = (document.definitions[0] as OperationDefinitionNode).selectionSet.selections;
    const locations = new GraphQLError('merged', { nodes: selections }).locations;
    expect(locations).toHaveLength(MAX_ERROR_LOCATIONS);
    expect(locations![0]).toEqual({ line: 1, column: 3 });
  });
});
