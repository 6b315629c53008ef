import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

/** Bytes a parsed document (its AST) takes per character of its source. */
const DOCUMENT_BYTES_PER_CHARACTER = 12;
/** Hashes of documents seen once: fixed-size keys, like the shapes known valid. */
const MAX_SEEN_ONCE = 10_000;
/** Hand-offs never taken (a request refused after validation) are bounded in count and bytes. */
const MAX_HANDED_OFF = 256;
const HANDED_OFF_SHARE = 1 / 4;
const sizeOf = (document: DocumentNode): number =>
  Math.max(1, (document.loc?.end ?? 1) * DOCUMENT_BYTES_PER_CHARACTER);

/** Apollo's document store, replaced (docs/architecture.md#parsing-validation-and-execution says why). Kept
 * from a document's second sight: most are sent once, and each one kept is promoted to the old generation. */
export class DocumentStore implements KeyValueCache<DocumentNode> {
  private readonly documents: LRUCache<string, DocumentNode>;
  private readonly seenOnce = new LRUCache<string, true>({ max: MAX_SEEN_ONCE });
  /** Validated on first sight, waiting for Apollo's `get` of the same request. */
  private readonly handedOff: LRUCache<string, DocumentNode>;

  constructor(maxBytes: number) {
    this.documents = new LRUCache({ maxSize: maxBytes, sizeCalculation: sizeOf });
    const share = Math.max(1, Math.floor(maxBytes * HANDED_OFF_SHARE));
    this.handedOff = new LRUCache({ max: MAX_HANDED_OFF, maxSize: share, sizeCalculation: sizeOf });
  }

  byHash(queryHash: string): DocumentNode | undefined {
    return this.documents.get(queryHash) ?? this.handedOff.get(queryHash);
  }

  /** Validated, for Apollo's look-up of the same request (HTTP) only, admitted or not. */
  handOff(queryHash: string, document: DocumentNode): void {
    this.handedOff.set(queryHash, document);
  }

  /** Admitted: kept from its second sight (most documents are sent once). */
  keep(queryHash: string, document: DocumentNode): void {
    if (this.documents.has(queryHash)) return;
    if (this.seenOnce.delete(queryHash)) this.documents.set(queryHash, document);
    else this.seenOnce.set(queryHash, true);
  }

  // Apollo's side: keys are `<schema hash>:<query hash>`, the prefix it adds to a store of ours.
  async get(key: string): Promise<DocumentNode | undefined> {
    const hash = hashOf(key);
    const handed = this.handedOff.get(hash);
    if (handed === undefined) return this.documents.get(hash);
    this.handedOff.delete(hash);
    return handed;
  }

  /** Apollo's own parse, its hand-off dropped: not kept, since admission may have refused it. */
  async set(_key: string, _document: DocumentNode): Promise<void> {}

  async delete(key: string): Promise<boolean> {
    const hash = hashOf(key);
    const handed = this.handedOff.delete(hash);
    return this.documents.delete(hash) || handed;
  }
}

/** After the first colon: a persisted query's id may hold colons of its own (the schema hash has none). */
function hashOf(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}
