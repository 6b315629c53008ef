import { hash } from 'node:crypto';
import {
  Kind,
  print,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FloatValueNode,
  type IntValueNode,
  type ObjectFieldNode,
  type SelectionSetNode,
  type StringValueNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';

export type ShapeLiteral = IntValueNode | FloatValueNode | StringValueNode;

/** A document apart from the values of its Int, Float and String literals outside variable definitions:
 * two with one key differ at most in those values, in order. The key is a hash. */
export interface DocumentShape {
  readonly key: string;
  readonly literals: readonly ShapeLiteral[];
}

// Held by the document, not a WeakMap: young collections keep what an entry's value reaches while
// its key lives, and the literal nodes reach the whole document.
const SHAPE = Symbol('cse-jobs-gateway.documentShape');
type Held = { [SHAPE]?: { readonly document: DocumentNode; readonly shape: DocumentShape } };

/** One walk of the AST, not through fragment spreads (linear), once per DocumentNode (validation makes it,
 * the executor reads it). By hand, not a generic walk: every new document pays it. */
export function documentShape(document: DocumentNode): DocumentShape {
  const held = (document as Held)[SHAPE];
  // graphql-js's `visit` copies own properties, symbols too, onto the nodes it edits.
  if (held?.document === document) return held.shape;
  const parts: string[] = [];
  const literals: ShapeLiteral[] = [];

  const value = (node: ValueNode): void => {
    switch (node.kind) {
      case Kind.VARIABLE:
        parts.push('$', node.name.value);
        return;
      case Kind.INT:
      case Kind.FLOAT:
      case Kind.STRING:
        parts.push(node.kind === Kind.INT ? '#i' : node.kind === Kind.FLOAT ? '#f' : '#s');
        literals.push(node);
        return;
      // No enum value is named true, false or null.
      case Kind.BOOLEAN:
      case Kind.ENUM:
        parts.push('#', String(node.value));
        return;
      case Kind.NULL:
        parts.push('#null');
        return;
      case Kind.LIST:
        parts.push('[');
        for (const item of node.values) {
          value(item);
          parts.push(',');
        }
        parts.push(']');
        return;
      case Kind.OBJECT:
        return fields('{', node.fields, '}');
    }
  };
  const fields = (open: string, nodes: readonly (ArgumentNode | ObjectFieldNode)[], close: string): void => {
    parts.push(open);
    for (const field of nodes) {
      parts.push(field.name.value, ':');
      value(field.value);
      parts.push(',');
    }
    parts.push(close);
  };
  const args = (nodes: readonly ArgumentNode[] | undefined): void => {
    if (nodes !== undefined && nodes.length > 0) fields('(', nodes, ')');
  };
  const directives = (nodes: readonly DirectiveNode[] | undefined): void => {
    for (const directive of nodes ?? []) {
      parts.push('@', directive.name.value);
      args(directive.arguments);
    }
  };
  // Whole, default values and all: not literals of the canonical plan.
  const variableDefinitions = (nodes: readonly VariableDefinitionNode[] | undefined): void => {
    for (const definition of nodes ?? []) parts.push('$', print(definition), ',');
  };
  const selectionSet = (set: SelectionSetNode | undefined): void => {
    if (set === undefined) return;
    parts.push('{');
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.alias !== undefined) parts.push(selection.alias.value, '=');
        parts.push(selection.name.value);
        args(selection.arguments);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        parts.push('...', selection.name.value);
      } else {
        parts.push('...on', selection.typeCondition?.name.value ?? '');
      }
      directives(selection.directives);
      if (selection.kind !== Kind.FRAGMENT_SPREAD) selectionSet(selection.selectionSet);
      parts.push(' ');
    }
    parts.push('}');
  };

  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      parts.push(definition.operation, ' ', definition.name?.value ?? '');
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      parts.push('fragment ', definition.name.value, ' on ', definition.typeCondition.name.value);
    } else {
      // Never valid in an executable document.
      parts.push('!', definition.kind, ';');
      continue;
    }
    variableDefinitions(definition.variableDefinitions);
    directives(definition.directives);
    selectionSet(definition.selectionSet);
    parts.push(';');
  }
  const shape = { key: hash('sha256', parts.join(''), 'base64url'), literals };
  // Not enumerable: spreads and deep equality do not see it. A frozen document is not remembered.
  if (!Object.isExtensible(document)) return shape;
  Object.defineProperty(document, SHAPE, { value: { document, shape }, configurable: true, writable: true });
  return shape;
}
