import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';

/**
 * What graphql-js says when a field's value cannot be represented by its scalar or enum type,
 * capturing the type. Fields resolve to what the upstream sent, so this is the upstream breaking
 * its contract, not the caller's fault nor a gateway bug. Pinned against the real serializers
 * through the server by test/security/masking.test.ts.
 */
const LEAF_FAILURES: readonly RegExp[] = [
  /^(String|Int|Float|Boolean|ID) cannot represent /,
  /^Enum "([_A-Za-z][_0-9A-Za-z]*)" cannot represent /,
  /^(DateTime|JSON) cannot represent /,
  /^Expected `([_A-Za-z][_0-9A-Za-z]*)\.serialize\(/,
];

/** The type a field error says its value could not be represented as, or `undefined`. */
export function unrepresentableType(error: GraphQLError): string | undefined {
  // Input coercion fails before execution, without a path.
  if (error.path === undefined) return undefined;
  for (const pattern of LEAF_FAILURES) {
    const match = pattern.exec(error.message);
    if (match !== null) return match[1];
  }
  return undefined;
}

/** All the log may say of such a value: never the value, which is upstream content. */
export interface UnrepresentableValue {
  readonly path: ReadonlyArray<string | number>;
  readonly type: string;
}

/** UPSTREAM_BAD_RESPONSE at the same path, naming nothing of the value graphql-js quotes whole. */
export function upstreamValueError(error: GraphQLError, type: string): GraphQLError {
  const cause = new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, `The upstream sent a value this field cannot represent as ${type}.`);
  return new GraphQLError(cause.message, { nodes: error.nodes, path: error.path, originalError: cause, extensions: cause.extensions });
}
