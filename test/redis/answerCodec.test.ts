import fc from 'fast-check';
import { decodeAnswer, encodeAnswer } from '../../src/redis/SharedAnswers';
import { parseUpstreamBody } from '../../src/upstream/parseJson';
import type { UpstreamAnswer } from '../../src/upstream/stages/types';

/** Upstream answers as Redis keeps them: what goes in comes out as the exchange would have read it. */

const job = fc.record({
  // Ids beyond 2^53 as the upstream writes them: bare number literals.
  id: fc.bigInt({ min: 0n, max: 2n ** 64n }),
  name: fc.string(),
  status: fc.constantFrom('RUNNING', 'SUCCEEDED', 'FAILED'),
});
const upstreamText = fc
  .record({ total: fc.nat(), data: fc.array(job, { maxLength: 5 }) })
  .map(({ total, data }) => `{"total":${total},"data":[${data.map((j) => `{"id":${j.id},"name":${JSON.stringify(j.name)},"status":"${j.status}"}`).join(',')}]}`);

describe('answerCodec', () => {
  it('reads back an answer fresh from the exchange exactly as the exchange parsed its text (exact digits)', async () => {
    await fc.assert(
      fc.asyncProperty(upstreamText, fc.option(fc.string(), { nil: undefined }), async (text, requestId) => {
        const answer: UpstreamAnswer = { kind: 'ok', body: await parseUpstreamBody(text), requestId, bytes: Buffer.byteLength(text), text };
        const encoded = encodeAnswer(answer);
        // The upstream's own text is what is written: no second serialisation of the body.
        expect(encoded.endsWith(`\n${text}`)).toBe(true);
        expect(await decodeAnswer(encoded)).toEqual({ kind: 'ok', body: answer.body, requestId, bytes: answer.bytes });
      }),
    );
  });

  it('serialises the body of an answer without text, and reads it back the same', async () => {
    await fc.assert(
      fc.asyncProperty(upstreamText, async (text) => {
        const answer: UpstreamAnswer = { kind: 'ok', body: await parseUpstreamBody(text), requestId: undefined, bytes: text.length };
        expect(await decodeAnswer(encodeAnswer(answer))).toEqual(answer);
      }),
    );
  });

  it('keeps not-found answers', async () => {
    const answer: UpstreamAnswer = { kind: 'not-found', upstream: { status: 400, code: 'CSE.0001' } };
    expect(await decodeAnswer(encodeAnswer(answer))).toEqual(answer);
  });

  it.each([
    ['not JSON', 'nonsense'],
    ['a header without a body', '{"kind":"ok","requestId":null,"bytes":3}'],
    ['a body that is not JSON', '{"kind":"ok","requestId":null,"bytes":3}\n{"total":'],
    ['a header of another kind', '{"kind":"maybe"}\n{}'],
    ['a not-found with a body', '{"kind":"not-found","upstream":{}}\n{}'],
    ['a body nesting deeper than any upstream shape', `{"kind":"ok","requestId":null,"bytes":1}\n${'['.repeat(300_000)}${']'.repeat(300_000)}`],
  ])('reads %s as no answer, never as a wrong one', async (_name, value) => {
    expect(await decodeAnswer(value)).toBeUndefined();
  });
});
