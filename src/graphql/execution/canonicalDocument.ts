import {
  getNamedType,
  Kind,
  parseType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
  type VariableNode,
} from 'graphql';
import type { DocumentShape, ShapeLiteral } from './documentShape';

/** Names the canonical document gives its literals' variables: `$__lit0`, `$__lit1` … */
const LITERAL_VARIABLE = '__lit';

/**
 * A document of one shape with its abstracted literals as variables: `jobs(first: 17)` becomes
 * `jobs(first: $__lit0)`, declared on every operation with its position's input type. One compiled
 * plan serves every document of the shape with {@link literalVariables}. A valid literal and a
 * variable of the same value coerce to the same argument, and only validated documents come here.
 *
 * `undefined` when a variable of the document already uses the prefix, or a literal's input type
 * is unknown (a document that did not validate).
 */
export interface CanonicalDocument {
  readonly document: DocumentNode;
  /**
   * Per literal, whether its value is a number (Int or Float position) or the literal's text:
   * an `ID` written as an integer keeps every digit, even beyond 2^53.
   */
  readonly numeric: readonly boolean[];
}

export function canonicalDocument(schema: GraphQLSchema, document: DocumentNode, shape: DocumentShape): CanonicalDocument | undefined {
  const index = new Map<ShapeLiteral, number>(shape.literals.map((node, i) => [node, i]));
  const types: Array<GraphQLInputType | undefined> = new Array(shape.literals.length).fill(undefined);
  let usable = true;
  const typeInfo = new TypeInfo(schema);
  const replace = (node: ShapeLiteral): VariableNode | undefined => {
    const i = index.get(node);
    if (i === undefined) return undefined;
    const type = typeInfo.getInputType();
    if (type === null || type === undefined) usable = false;
    else types[i] = type;
    return { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: `${LITERAL_VARIABLE}${i}` }, loc: node.loc };
  };
  const edited: DocumentNode = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition(node) {
        if (node.variable.name.value.startsWith(LITERAL_VARIABLE)) usable = false;
        // Default values are kept in the shape: not literals of the canonical plan.
        return false;
      },
      IntValue: replace,
      FloatValue: replace,
      StringValue: replace,
    }),
  );
  if (!usable || types.some((type) => type === undefined)) return undefined;
  const numeric = types.map((type) => {
    const named = getNamedType(type!).name;
    return named === 'Int' || named === 'Float';
  });
  const definitions: VariableDefinitionNode[] = types.map((type, i) => ({
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: `${LITERAL_VARIABLE}${i}` } },
    type: parseType(String(type)),
  }));
  if (definitions.length === 0) return { document: edited, numeric };
  return {
    document: {
      ...edited,
      definitions: edited.definitions.map((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION
          ? ({ ...definition, variableDefinitions: [...(definition.variableDefinitions ?? []), ...definitions] } satisfies OperationDefinitionNode)
          : definition,
      ),
    },
    numeric,
  };
}

/**
 * The canonical plan's variables for a document of the shape: its own, and each literal's value.
 * `undefined` when the caller's variables already use the prefix.
 */
export function literalVariables(
  literals: readonly ShapeLiteral[],
  numeric: readonly boolean[],
  variables: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | undefined {
  if (variables !== undefined) for (const name in variables) if (name.startsWith(LITERAL_VARIABLE)) return undefined;
  const bound: Record<string, unknown> = { ...variables };
  for (let i = 0; i < literals.length; i += 1) {
    const node = literals[i]!;
    bound[`${LITERAL_VARIABLE}${i}`] = numeric[i] === true ? Number(node.value) : node.value;
  }
  return bound;
}
