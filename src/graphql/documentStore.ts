import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/** Bytes a parsed document (its AST) takes per character of its source. */
const DOCUMENT_BYTES_PER_CHARACTER = 12;

/** Apollo's document store, replaced: docs/architecture.md#parsing-validation-and-execution says why. */
export class DocumentStore implements KeyValueCache<DocumentNode> {
  private readonly documents: LRUCache<string, DocumentNode>;

  constructor(maxBytes: number) {
    this.documents = new LRUCache<string, DocumentNode>({
      maxSize: maxBytes,
      sizeCalculation: (document) => Math.max(1, (document.loc?.end ?? 1) * DOCUMENT_BYTES_PER_CHARACTER),
    });
  }

  byHash(queryHash: string): DocumentNode | undefined {
    return this.documents.get(queryHash);
  }

  keep(queryHash: string, document: DocumentNode): void {
    this.documents.set(queryHash, document);
  }

  // Apollo's side: keys are `<prefix>:<query hash>` when it adds a prefix, the hash alone otherwise.
  async get(key: string): Promise<DocumentNode | undefined> {
    return this.documents.get(hashOf(key));
  }

  async set(key: string, document: DocumentNode): Promise<void> {
    this.documents.set(hashOf(key), document);
  }

  async delete(key: string): Promise<boolean> {
    return this.documents.delete(hashOf(key));
  }
}

function hashOf(key: string): string {
  const colon = key.lastIndexOf(':');
  return colon === -1 ? key : key.slice(colon + 1);
}
