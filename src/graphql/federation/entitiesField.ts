import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { credentialVerdictOf } from '../../upstream/errorMapping';
import type { GatewayContext } from '../context';

/**
 * `_entities` as @apollo/subgraph resolves it (one value or promise per representation), but when the
 * upstream refuses the caller's credentials for any of them, the field fails once, with that error:
 * `data` null and one error at `["_entities"]`, which routers place at the fetch's path for all its
 * entities (docs/federation.md), rather than an error each for up to MAX_LIST_ITEMS representations.
 * Any other failure stays with its own representation. The items are paced, and their keys counted, as
 * a connection's are (OperationBudget.paced).
 */
export function failEntitiesOnceWhenCredentialsRefused(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolve = field?.resolve;
  if (field === undefined || resolve === undefined) return;
  field.resolve = entitiesResolver(resolve);
}

function entitiesResolver(resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return async (source, args, context, info) => {
    const items = (await resolve(source, args, context, info)) as readonly unknown[];
    // Every representation settled before any is completed; the items themselves are answered as before.
    const settled = await Promise.allSettled(items);
    const refused = settled.find((item) => item.status === 'rejected' && credentialVerdictOf(item.reason) === 'refused');
    if (refused !== undefined) throw (refused as PromiseRejectedResult).reason;
    return (context as GatewayContext).budget.paced(items.length, info, () => items);
  };
}
