import { asEngine, asJob, asListBody } from '../../src/upstream/types';
import { UpstreamBodyError } from '../../src/upstream/parseJson';

describe('asListBody', () => {
  it('returns the body itself when it is {total, data}', () => {
    const body = { total: 7, data: [{ id: 1 }] };
    expect(asListBody(body)).toBe(body);
  });

  it('takes the one object of the documented array variant', () => {
    const inner = { total: 3, data: [{ id: 1 }] };
    expect(asListBody([inner])).toBe(inner);
  });

  it.each<[string, unknown, { total: number; data: unknown[] }]>([
    ['total missing', { data: [1, 2] }, { total: 2, data: [1, 2] }],
    ['total null', { total: null, data: [1] }, { total: 1, data: [1] }],
    ['total 0 with an empty page', { total: 0, data: [] }, { total: 0, data: [] }],
    ['array variant, total missing', [{ data: [1, 2, 3] }], { total: 3, data: [1, 2, 3] }],
  ])('%s', (_label, input, expected) => {
    const result = asListBody(input);
    expect(result).toEqual(expected);
  });

  it('does not copy or modify data when it fills in total', () => {
    const data = [{ id: 1 }];
    const body = { data };
    expect(asListBody(body).data).toBe(data);
    expect(body).toEqual({ data });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'oops'],
    ['a number', 5],
    ['an empty object', {}],
    ['data not an array', { total: 1, data: { id: 1 } }],
    ['data null', { total: 0, data: null }],
    ['a bare array of items', [{ id: 1 }, { id: 2 }]],
    ['an empty array', []],
    ['an array of two list bodies', [{ total: 1, data: [] }, { total: 1, data: [] }]],
    ['total a string', { total: '2', data: [] }],
    ['total negative', { total: -1, data: [] }],
    ['total fractional', { total: 1.5, data: [] }],
    ['total NaN', { total: Number.NaN, data: [] }],
  ])('throws UpstreamBodyError for %s', (_label, input) => {
    expect(() => asListBody(input)).toThrow(UpstreamBodyError);
  });
});

describe('asEngine', () => {
  it('returns the object itself', () => {
    const engine = { id: 'e1', name: 'engine' };
    expect(asEngine(engine)).toBe(engine);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ id: 'e1' }]],
    ['no id', { name: 'x' }],
    ['an empty id', { id: '' }],
    ['a numeric id', { id: 5 }],
    ['a string', 'e1'],
  ])('throws UpstreamBodyError for %s', (_label, input) => {
    expect(() => asEngine(input)).toThrow(UpstreamBodyError);
  });
});

describe('asJob', () => {
  it.each<[string, unknown]>([
    ['a number id', { id: 42 }],
    ['id 0', { id: 0 }],
    ['a digit-string id (beyond 2^53)', { id: '12345678901234567890' }],
  ])('returns the object itself for %s', (_label, job) => {
    expect(asJob(job)).toBe(job);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ id: 1 }]],
    ['no id', { engineId: 'e1' }],
    ['a negative id', { id: -1 }],
    ['a fractional id', { id: 1.5 }],
    ['an unsafe number id', { id: 2 ** 60 }],
    ['a non-digit string id', { id: 'job-1' }],
    ['an empty string id', { id: '' }],
    ['a null id', { id: null }],
  ])('throws UpstreamBodyError for %s', (_label, input) => {
    expect(() => asJob(input)).toThrow(UpstreamBodyError);
  });
});
