/**
 * The custom scalars of the schema. Their descriptions repeat the SDL's, so introspection reads
 * the same whichever of the two a schema is built from.
 */
import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { ErrorCode } from '../errors/codes';
import { formatDateTime, parseDateTime } from '../mapping/time';

/**
 * `DateTime`: epoch milliseconds inside the gateway (as the upstream sends them), RFC 3339 text
 * in UTC with milliseconds outside.
 *
 * - `serialize` takes a number (epoch ms) or a `Date`. Anything else is a resolver bug, so the
 *   error it throws carries no code and is masked as an internal error.
 * - `parseValue` / `parseLiteral` take only strings with a time zone (see `parseDateTime`);
 *   anything else is the caller's mistake: `BAD_USER_INPUT`, saying what was expected.
 */
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
      throw new GraphQLError(messageOf(error), { originalError: asError(error) });
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
      throw badInput(`DateTime must be a string such as "2021-11-10T10:28:15.901Z", got ${shorten(print(ast))}`, ast);
    }
    return parseOrThrow(ast.value, ast);
  },
});

/**
 * `JSON`: any JSON value. graphql-scalars' implementation (it works with graphql 16 from
 * CommonJS), under the SDL's description.
 */
export const JSONScalar = new GraphQLScalarType({
  ...GraphQLJSON.toConfig(),
  description: 'Any JSON value: an object, array, string, number, boolean or null.',
});

function parseOrThrow(text: string, node?: ValueNode): number {
  try {
    return parseDateTime(text);
  } catch (error) {
    throw badInput(messageOf(error), node, error);
  }
}

function badInput(message: string, node?: ValueNode, cause?: unknown): GraphQLError {
  return new GraphQLError(message, {
    ...(node === undefined ? {} : { nodes: node }),
    originalError: asError(cause),
    extensions: { code: ErrorCode.BAD_USER_INPUT },
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a value of type ${typeof value}`;
}

/** Echoes the caller's own literal, shortened so the message stays readable. */
function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asError(error: unknown): Error | undefined {
  return error instanceof Error ? error : undefined;
}
