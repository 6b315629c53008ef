import { releaseExchange } from '../../src/observability/exchangeMemory';

describe('releaseExchange', () => {
  it('on release, empties the context Apollo copied and drops the result, for every operation it holds', () => {
    const loaders = { page: { data: ['job'] } };
    const operations = [1, 2].map(() => ({
      contextValue: { loaders, record: { requestId: 'r1' } },
      response: { http: { status: 200 }, body: { kind: 'single', singleResult: { data: {} } } as unknown },
    }));
    const held = [...operations];

    releaseExchange(held);

    for (const operation of operations) {
      expect(operation.contextValue).toEqual({ loaders: undefined, record: undefined });
      expect(operation.response.body).toBeUndefined();
      // Only the references are dropped: the objects themselves are not changed.
      expect(operation.response.http).toEqual({ status: 200 });
    }
    expect(loaders).toEqual({ page: { data: ['job'] } });
  });

  it('forgets what it released: a second release changes nothing', () => {
    const operation = { contextValue: { a: 1 } as Record<string, unknown>, response: { body: 'x' as unknown } };
    const held = [operation];
    releaseExchange(held);
    operation.contextValue.a = 2;
    operation.response.body = 'y';
    releaseExchange(held);
    expect(operation).toEqual({ contextValue: { a: 2 }, response: { body: 'y' } });
  });
});
