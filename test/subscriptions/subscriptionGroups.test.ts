import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import type { GatewayContext } from '../../src/graphql/context';
import { SubscriptionGroups, type GroupRequest } from '../../src/subscriptions/SubscriptionGroups';
import type { Credentials } from '../../src/upstream/credentials';

/** SubscriptionGroups alone, on a schema of one subscription field. */

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: GraphQLString,
        subscribe: async function* () {
          yield { ticks: 'one' };
        },
      },
    },
  }),
});

const request: GroupRequest = {
  key: 'k',
  document: parse('subscription { ticks }'),
  operationName: undefined,
  variables: undefined,
  credentials: { token: 't' } as unknown as Credentials,
  onConflated: () => {},
};

describe('SubscriptionGroups', () => {
  it('does not keep a group whose source could not be started: the next identical subscribe starts its own', async () => {
    let calls = 0;
    const groups = new SubscriptionGroups({
      schema,
      contextFor: () => {
        calls += 1;
        if (calls === 1) throw new Error('no context this time');
        return {} as GatewayContext;
      },
      formatError: (formatted) => formatted,
      maxPendingResults: 4,
    });
    await expect(groups.join(request)).rejects.toThrow('no context this time');
    expect(groups.size).toBe(0);
    const stream = await groups.join(request);
    expect(Symbol.asyncIterator in (stream as object)).toBe(true);
    await (stream as AsyncGenerator).return(undefined);
  });
});
