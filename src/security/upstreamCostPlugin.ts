import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import { createMemoizedEstimator, type EstimateOptions } from './estimateUpstreamCalls';
import { requestRefusal } from './requestRefusal';

export interface UpstreamCostOptions extends EstimateOptions {
  /** Operations estimated above this many upstream calls are refused. */
  readonly maxUpstreamCalls: number;
}

/**
 * Refuses an operation whose worst-case number of upstream calls is above the limit, after
 * validation and before execution: no upstream call is made for it. The estimate and the limit
 * go into `extensions` so a client can tell how far over it is.
 */
export function upstreamCostPlugin(schema: GraphQLSchema, options: UpstreamCostOptions): ApolloServerPlugin {
  const estimateUpstreamCalls = createMemoizedEstimator(schema, options);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request }) {
          let estimate: number;
          try {
            estimate = estimateUpstreamCalls(document, operationName, request.variables);
          } catch (error) {
            // Malformed `_entities` representations: the caller's input, refused as a whole.
            if (error instanceof GatewayError) error.extensions.http = { status: 400 };
            throw error;
          }
          if (estimate > options.maxUpstreamCalls) {
            // An estimate past any count (a walk stopped by its budget, or a product of huge
            // multipliers) is reported as the largest exact integer: JSON has no Infinity.
            const reported = Math.min(estimate, Number.MAX_SAFE_INTEGER);
            throw requestRefusal(
              ErrorCode.QUERY_TOO_COMPLEX,
              `The operation could make up to ${Number.isFinite(estimate) ? estimate : 'an unbounded number of'} upstream calls; ` +
                `the limit is ${options.maxUpstreamCalls}. Ask for smaller pages (first/last) or fewer nested lists.`,
              { details: { estimate: reported, limit: options.maxUpstreamCalls } },
            );
          }
        },
      };
    },
  };
}
