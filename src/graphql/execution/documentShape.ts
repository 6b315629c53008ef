import { hash } from 'node:crypto';
import {
  Kind,
  print,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FloatValueNode,
  type IntValueNode,
  type SelectionSetNode,
  type StringValueNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { documentMemo } from './documentMemo';

export type ShapeLiteral = IntValueNode | FloatValueNode | StringValueNode;

/**
 * A document apart from the values of its Int, Float and String literals outside variable
 * definitions: two with one key differ at most in those values, in order. The key is a hash.
 */
export interface DocumentShape {
  readonly key: string;
  readonly literals: readonly ShapeLiteral[];
}

const shapes = documentMemo<DocumentShape>('cse-jobs-gateway.documentShape');

/**
 * One walk of the AST, not through fragment spreads (linear), once per DocumentNode (validation
 * makes it, the executor reads it). By hand, not a generic walk: every new document pays it.
 */
export function documentShape(document: DocumentNode): DocumentShape {
  const known = shapes.get(document);
  if (known !== undefined) return known;
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
        parts.push('{');
        for (const field of node.fields) {
          parts.push(field.name.value, ':');
          value(field.value);
          parts.push(',');
        }
        parts.push('}');
        return;
    }
  };
  const args = (nodes: readonly ArgumentNode[] | undefined): void => {
    if (nodes === undefined || nodes.length === 0) return;
    parts.push('(');
    for (const arg of nodes) {
      parts.push(arg.name.value, ':');
      value(arg.value);
      parts.push(',');
    }
    parts.push(')');
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
        directives(selection.directives);
        selectionSet(selection.selectionSet);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        parts.push('...', selection.name.value);
        directives(selection.directives);
      } else {
        parts.push('...on', selection.typeCondition?.name.value ?? '');
        directives(selection.directives);
        selectionSet(selection.selectionSet);
      }
      parts.push(' ');
    }
    parts.push('}');
  };

  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      parts.push(definition.operation, ' ', definition.name?.value ?? '');
      variableDefinitions(definition.variableDefinitions);
      directives(definition.directives);
      selectionSet(definition.selectionSet);
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      parts.push('fragment ', definition.name.value, ' on ', definition.typeCondition.name.value);
      variableDefinitions(definition.variableDefinitions);
      directives(definition.directives);
      selectionSet(definition.selectionSet);
    } else {
      // Never valid in an executable document.
      parts.push('!', definition.kind);
    }
    parts.push(';');
  }
  const shape = { key: hash('sha256', parts.join(''), 'base64url'), literals };
  shapes.set(document, shape);
  return shape;
}
