import type { GraphQLError } from 'graphql';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { rebuildError } from './rebuildError';

/**
 * What graphql-js (and graphql-jit, which passes the serializer's message on) says when a field's
 * value cannot be represented by its scalar or enum type. Fields resolve to what the upstream sent,
 * so such a failure is the upstream breaking its own contract — a `name` that is an object, a
 * `total` beyond GraphQL's Int — never the caller's, and not a gateway bug. The capture is the
 * type the field promises.
 *
 * Pinned against the real serializers by `test/graphql/upstreamValues.test.ts`: a graphql release
 * that words them differently fails there, not in production.
 */
const LEAF_FAILURES: readonly RegExp[] = [
  /^(String|Int|Float|Boolean|ID) cannot represent /,
  /^Enum "([_A-Za-z][_0-9A-Za-z]*)" cannot represent /,
  /^(DateTime|JSON) cannot represent /,
  // graphql-jit, when a serializer returns nothing; graphql-js says "Expected `T.serialize(…)`".
  /^Expected a value of type "([_A-Za-z][_0-9A-Za-z]*)" but received/,
  /^Expected `([_A-Za-z][_0-9A-Za-z]*)\.serialize\(/,
];

/** The type a field error says its value could not be represented as, or `undefined` for any other error. */
export function unrepresentableType(error: GraphQLError): string | undefined {
  // Field errors have a path; input coercion (variables, literals) fails before execution, without one.
  if (error.path === undefined) return undefined;
  for (const pattern of LEAF_FAILURES) {
    const match = pattern.exec(error.message);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** Where and what: all the log may say of such a value (never the value: it is upstream content). */
export interface UnrepresentableValue {
  readonly path: ReadonlyArray<string | number>;
  readonly type: string;
}

/**
 * The same error as UPSTREAM_BAD_RESPONSE at the same path, with a message that names neither the
 * value nor anything in it (graphql-js quotes the whole value, which may be any upstream object).
 */
export function upstreamValueError(error: GraphQLError, type: string): GraphQLError {
  const cause = new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, `The upstream sent a value this field cannot represent as ${type}.`);
  return rebuildError(error, { message: cause.message, originalError: cause, extensions: cause.extensions });
}
