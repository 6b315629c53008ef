import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type FormattedExecutionResult } from 'graphql';
import { ConflatingStream } from '../../src/subscriptions/conflatingStream';
import type { GatewayContext } from '../../src/graphql/context';
import { OperationBudget } from '../../src/graphql/execution/operationBudget';
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
  hash: 'k',
  document: parse('subscription { ticks }'),
  operationName: undefined,
  variables: undefined,
  credentials: { token: 't' } as unknown as Credentials,
  items: 7,
};

const budgets: OperationBudget[] = [];
/** What an event's execution reads of its context here: its budget, kept to be looked at. */
function eventContext(): GatewayContext {
  const budget = new OperationBudget({ maxUpstreamBytes: 1024 * 1024, maxListItems: 1000 });
  budgets.push(budget);
  return { budget } as unknown as GatewayContext;
}

/** Joins as the WebSocket server does: the member's own stream, the group left when it closes. */
async function join(groups: SubscriptionGroups, member: GroupRequest): Promise<AsyncGenerator<any, undefined> | FormattedExecutionResult> {
  let leave = () => {};
  const stream = new ConflatingStream<FormattedExecutionResult>(4, undefined, () => leave());
  const joined = await groups.join(member, stream);
  if (typeof joined !== 'function') return joined;
  leave = joined;
  return stream;
}

describe('SubscriptionGroups', () => {
  it('does not keep a group whose source could not be started: the next identical subscribe starts its own', async () => {
    let calls = 0;
    const groups = new SubscriptionGroups({
      schema,
      contextFor: () => {
        calls += 1;
        if (calls === 1) throw new Error('no context this time');
        return eventContext();
      },
      formatError: (formatted) => formatted,
      maxResultBytes: Infinity,
    });
    await expect(join(groups, request)).rejects.toThrow('no context this time');
    const stream = await join(groups, request);
    // A kept group would refuse it with the stored failure.
    expect(Symbol.asyncIterator in (stream as object)).toBe(true);
    await (stream as AsyncGenerator).return(undefined);
  });

  it("ends the subscribe's own budget once its source is made: nothing it took among the answers being made stays held", async () => {
    const groups = new SubscriptionGroups({ schema, contextFor: eventContext, formatError: (formatted) => formatted, maxResultBytes: Infinity });
    budgets.length = 0;
    const stream = await join(groups, request);
    expect(budgets[0]!['ended']).toBe(true);
    await (stream as AsyncGenerator).return(undefined);
  });

  describe('subscriptions that differ only in aliases, operation name, fragments and layout', () => {
    /** Ticks pushed by the test to every open source; `value` counts its executions. */
    let sources: ConflatingStream<{ ticks: { n: number } }>[] = [];
    let executions = 0;
    const tick = new GraphQLObjectType({
      name: 'Tick',
      fields: {
        value: {
          type: GraphQLInt,
          args: { times: { type: GraphQLInt } },
          resolve: (tick: { n: number }, args: { times?: number }) => {
            executions += 1;
            return tick.n * (args.times ?? 1);
          },
        },
        label: { type: GraphQLString, resolve: (tick: { n: number }) => `tick ${tick.n}` },
      },
    });
    const ticking = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          ticks: {
            type: tick,
            subscribe: () => {
              const source = new ConflatingStream<{ ticks: { n: number } }>(8, undefined, () => (sources = sources.filter((s) => s !== source)));
              sources.push(source);
              return source;
            },
          },
        },
      }),
    });
    const texts = [
      'subscription { ticks { value(times: 2) label } }',
      'subscription A { t: ticks { v: value(times: 2) l: label } }',
      'subscription B { x: ticks { label y: value(times: 2) } }',
      '# layout\nsubscription C {\n  ticks { ...F }\n}\nfragment F on Tick { z: value(times: 2) ... on Tick { label } }',
    ];

    it('share one execution per event, and each member reads its own keys in its own order', async () => {
      const groups = new SubscriptionGroups({ schema: ticking, contextFor: eventContext, formatError: (formatted) => formatted, maxResultBytes: Infinity });
      // Each text its own hash, as the server makes them.
      const streams = await Promise.all(
        texts.map(async (text, i) => (await join(groups, { ...request, hash: `text ${i}`, document: parse(text) })) as AsyncGenerator<any, undefined>),
      );
      expect(sources).toHaveLength(1);
      sources[0]!.push('t', { ticks: { n: 21 } });
      const results = await Promise.all(streams.map(async (stream) => JSON.stringify((await stream.next()).value)));
      expect(results).toEqual([
        JSON.stringify({ data: { ticks: { value: 42, label: 'tick 21' } } }),
        JSON.stringify({ data: { t: { v: 42, l: 'tick 21' } } }),
        JSON.stringify({ data: { x: { label: 'tick 21', y: 42 } } }),
        JSON.stringify({ data: { ticks: { z: 42, label: 'tick 21' } } }),
      ]);
      expect(executions).toBe(1);
      // The source's context, then the event's: the event's budget ends with its execution, so a
      // branch graphql-js goes on with afterwards makes no further lists.
      expect(budgets.at(-1)!['ended']).toBe(true);
      // Told the admission's estimate of the items an event answers, as an operation over HTTP is.
      expect(budgets.at(-1)!['expectedItems']).toBe(request.items);
      await Promise.all(streams.map((stream) => stream.return(undefined)));
      expect(sources).toHaveLength(0);
    });

    it.each([
      ['variables in another order, or with one the operation does not declare', 'subscription ($t: Int) { ticks { value(times: $t) } }', { t: 2 }, 'subscription ($t: Int) { ticks { value(times: $t) } }', { u: 1, t: 2 }],
      ['variables under other names', 'subscription ($t: Int, $l: Boolean!) { ticks { value(times: $t) label @include(if: $l) } }', { t: 2, l: true }, 'subscription ($l: Boolean!, $x: Int) { ticks { value(times: $x) label @include(if: $l) } }', { x: 2, l: true }],
      ['a variable or the same value in the text', 'subscription ($t: Int) { ticks { value(times: $t) } }', { t: 2 }, 'subscription { ticks { value(times: 2) } }', undefined],
      ['a variable left out or the argument left out', 'subscription ($t: Int) { ticks { value(times: $t) label } }', {}, 'subscription { ticks { label value } }', undefined],
    ])('share across %s', async (_what, one, oneVariables, two, twoVariables) => {
      const groups = new SubscriptionGroups({ schema: ticking, contextFor: eventContext, formatError: (formatted) => formatted, maxResultBytes: Infinity });
      const first = (await join(groups, { ...request, hash: 'a', document: parse(one), variables: oneVariables })) as AsyncGenerator;
      const second = (await join(groups, { ...request, hash: 'b', document: parse(two), variables: twoVariables })) as AsyncGenerator;
      expect(sources).toHaveLength(1);
      sources[0]!.push('t', { ticks: { n: 21 } });
      const results = await Promise.all([first, second].map(async (stream) => (await stream.next()).value));
      expect(results[1]).toEqual(results[0]);
      await first.return(undefined);
      await second.return(undefined);
    });

    it("take one caller's events in its turns, a group at a time: other work runs between them", async () => {
      const groups = new SubscriptionGroups({ schema: ticking, contextFor: eventContext, formatError: (formatted) => formatted, maxResultBytes: Infinity });
      const streams = await Promise.all(
        [1, 2, 3, 4, 5].map(async (times) => (await join(groups, { ...request, hash: `g${times}`, document: parse(`subscription { ticks { value(times: ${times}) } }`) })) as AsyncGenerator),
      );
      expect(sources).toHaveLength(5);
      const order: string[] = [];
      const delivered = streams.map((stream, i) => stream.next().then(() => order.push(`group ${i}`)));
      for (const source of sources) source.push('t', { ticks: { n: 1 } });
      // Other work: one step in each pass of the event loop.
      let passes = 0;
      const other = () => {
        order.push('other');
        if ((passes += 1) < 20) setImmediate(other);
      };
      setImmediate(other);
      await Promise.all(delivered);
      const between = order.slice(order.indexOf('group 0'), order.indexOf('group 4'));
      expect(between.filter((step) => step === 'other').length).toBeGreaterThanOrEqual(3);
      await Promise.all(streams.map((stream) => stream.return(undefined)));
    });

    it('do not share with a different argument', async () => {
      const groups = new SubscriptionGroups({ schema: ticking, contextFor: eventContext, formatError: (formatted) => formatted, maxResultBytes: Infinity });
      const one = (await join(groups, { ...request, hash: 'a', document: parse('subscription { ticks { value(times: 2) } }') })) as AsyncGenerator;
      const other = (await join(groups, { ...request, hash: 'b', document: parse('subscription { ticks { value(times: 3) } }') })) as AsyncGenerator;
      expect(sources).toHaveLength(2);
      await one.return(undefined);
      await other.return(undefined);
    });
  });
});
