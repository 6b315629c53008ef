import type { DocumentNode } from 'graphql';

/**
 * A value remembered per DocumentNode, held by the document itself. Not a WeakMap: young-generation
 * collections keep what an entry's value reaches while its key lives, and a shape's literal nodes
 * reach the whole token list, so every new document was copied and promoted.
 */
export function documentMemo<T>(description: string) {
  const slot = Symbol(description);
  type Holder = { [slot]?: { readonly document: DocumentNode; readonly value: T } };
  return {
    get(document: DocumentNode): T | undefined {
      const held = (document as Holder)[slot];
      // graphql-js's `visit` copies own properties, symbols too, onto the nodes it edits.
      return held?.document === document ? held.value : undefined;
    },
    set(document: DocumentNode, value: T): void {
      // Not enumerable: spreads and deep equality do not see it. A frozen document is not remembered.
      if (!Object.isExtensible(document)) return;
      const held = { document, value };
      Object.defineProperty(document, slot, { value: held, configurable: true, writable: true });
    },
  };
}
