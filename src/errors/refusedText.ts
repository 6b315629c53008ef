import { Kind, type DocumentNode, type GraphQLError } from 'graphql';

const REFUSAL = Symbol('cse-jobs-gateway.refusal');
type StandIn = DocumentNode & { readonly [REFUSAL]: readonly GraphQLError[] };

/** A document of no definitions holding a refusal: what Apollo takes for a text admission refused at
 * parsing or validation, in place of parsing it again (graphql/documentStore.ts). */
export function refusedTextStandIn(refusal: readonly GraphQLError[]): DocumentNode {
  const standIn: StandIn = { kind: Kind.DOCUMENT, definitions: [], [REFUSAL]: refusal };
  return standIn;
}

/** The refusal a stand-in holds; of any other document, none. */
export function refusalOf(document: DocumentNode | undefined): readonly GraphQLError[] | undefined {
  return (document as Partial<StandIn> | undefined)?.[REFUSAL];
}
