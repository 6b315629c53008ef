import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { createOperationExecutor } from '../../src/graphql/execution/operationExecutor';

const schema = buildSchema('type Query { a: Int }');
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** How each of `times` runs of one document went, a shape being hot after one use. */
async function runs(document: ReturnType<typeof parse>, operation: OperationDefinitionNode, times: number): Promise<string[]> {
  const how: string[] = [];
  const executor = createOperationExecutor(schema, {
    mode: 'adaptive',
    compileAfterUses: 1,
    plansMaxBytes: 1 << 20,
    onExecuted: (ran) => how.push(ran),
  });
  for (let i = 0; i < times; i += 1) {
    const result = await executor({ document, operation, operationName: 'A', variableValues: {}, contextValue: {} });
    expect(result).toEqual({ data: { a: null } });
    await nextTurn(); // a compile runs after the response that made the shape hot
  }
  return how;
}

describe('the adaptive executor\'s plan keys', () => {
  it('gives a hot operation of its document a plan', async () => {
    const document = parse('query A { a }');
    expect(await runs(document, document.definitions[0] as OperationDefinitionNode, 3)).toEqual(['interpreted', 'compiled', 'compiled']);
  });

  it('interprets an operation its document does not hold, and never makes it a plan', async () => {
    const stranger = parse('query A { a }').definitions[0] as OperationDefinitionNode;
    expect(await runs(parse('query A { a }'), stranger, 3)).toEqual(['interpreted', 'interpreted', 'interpreted']);
  });
});
