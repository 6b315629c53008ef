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

const LITERAL_VARIABLE = '__lit';

/** A document of one shape with its abstracted literals as variables (`jobs(first: $__lit0)`), declared on
 * every operation with their input types: a valid literal and a variable of its value coerce alike.
 * `undefined` if a variable uses the prefix or a type is unknown.
 * `numeric`: Int/Float, else text (exact ID). */
export interface CanonicalDocument {
  readonly document: DocumentNode;
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
        return false;
      },
      IntValue: replace,
      FloatValue: replace,
      StringValue: replace,
    }),
  );
  if (!usable || types.some((type) => type === undefined)) return undefined;
  const numeric = types.map((type) => ['Int', 'Float'].includes(getNamedType(type!).name));
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

/** The plan's variables: the caller's and each literal's; `undefined` if the caller's use the prefix. */
export function literalVariables(
  literals: readonly ShapeLiteral[],
  numeric: readonly boolean[],
  variables: Readonly<Record<string, unknown>> | null | undefined,
): Record<string, unknown> | undefined {
  for (const name in variables ?? {}) if (name.startsWith(LITERAL_VARIABLE)) return undefined;
  const bound: Record<string, unknown> = { ...variables };
  for (let i = 0; i < literals.length; i += 1) {
    const node = literals[i]!;
    bound[`${LITERAL_VARIABLE}${i}`] = numeric[i] === true ? Number(node.value) : node.value;
  }
  return bound;
}
