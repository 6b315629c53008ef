// Descriptions repeat the SDL's: introspection reads alike either way.
import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { ErrorCode } from '../errors/codes';
import { formatDateTime, parseDateTime } from '../mapping/time';

/** Epoch milliseconds inside, RFC 3339 in UTC outside; a value that is not epoch ms is a bug (masked). */
export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  description:
    'An ISO-8601 instant in UTC with milliseconds, for example `2021-11-10T10:28:15.901Z`.\n' +
    'The upstream sends epoch milliseconds; `0` or a missing value becomes `null`.',
  serialize(output: unknown): string {
    const ms = output instanceof Date ? output.getTime() : output;
    if (typeof ms !== 'number') {
      throw new GraphQLError(`DateTime cannot represent a value of type ${typeof output}: expected epoch ms or a Date`);
    }
    try {
      return formatDateTime(ms);
    } catch (error) {
      throw new GraphQLError((error as Error).message, { originalError: error as Error });
    }
  },
  parseValue(input: unknown): number {
    if (typeof input !== 'string') {
      throw badInput(`DateTime must be a string such as 2021-11-10T10:28:15.901Z, got ${describe(input)}`);
    }
    return parseOrThrow(input);
  },
  parseLiteral(ast: ValueNode): number {
    if (ast.kind !== Kind.STRING) {
      const text = print(ast);
      const got = text.length > 64 ? `${text.slice(0, 64)}…` : text;
      throw badInput(`DateTime must be a string such as "2021-11-10T10:28:15.901Z", got ${got}`, ast);
    }
    return parseOrThrow(ast.value, ast);
  },
});

/** graphql's defaults: values pass as they are, a literal is read by `valueFromASTUntyped`. */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value: an object, array, string, number, boolean or null.',
  specifiedByURL: 'http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf',
});

function parseOrThrow(text: string, node?: ValueNode): number {
  try {
    return parseDateTime(text);
  } catch (error) {
    throw badInput((error as Error).message, node, error);
  }
}

function badInput(message: string, node?: ValueNode, cause?: unknown): GraphQLError {
  return new GraphQLError(message, {
    ...(node === undefined ? {} : { nodes: node }),
    originalError: cause as Error | undefined,
    extensions: { code: ErrorCode.BAD_USER_INPUT },
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a value of type ${typeof value}`;
}
