import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode, GraphQLError } from 'graphql';
import { refusalOf, refusedTextStandIn } from '../errors/refusedText';
import { LRUCache } from 'lru-cache';

/** Bytes a parsed document takes per syntax node: the node, its location and its start (bench/README.md). */
const BYTES_PER_NODE = 280;
/** Hashes of documents seen once: fixed-size keys, like the shapes known valid. */
const MAX_SEEN_ONCE = 10_000;
/** Hand-offs never taken (a request refused after validation) are bounded in count and bytes. */
const MAX_HANDED_OFF = 256;
const HANDED_OFF_SHARE = 1 / 4;
/** What admission's parser counted of a document: its syntax nodes, and its string values' characters
 * (a block string's or an escaped one's value is a string of its own, beside the text). */
export interface ParsedWeight {
  readonly nodes: number;
  readonly stringChars: number;
}

/** Its nodes, its text and its string values, at two bytes a character where V8 needs them (any
 * character past U+00FF). Comments and blanks make no node. */
function sizeOf(document: DocumentNode, { nodes, stringChars }: ParsedWeight): number {
  const text = document.loc?.source.body ?? '';
  return nodes * BYTES_PER_NODE + (text.length + stringChars) * widthOf(text);
}

function widthOf(text: string): 1 | 2 {
  return /[^\u0000-\u00ff]/.test(text) ? 2 : 1;
}

// On the document, not a WeakMap: held wherever the document is (the store, a live subscription).
const BYTES = Symbol('cse-jobs-gateway.documentBytes');
type Weighed = DocumentNode & { [BYTES]?: number };

/** Once, by admission's parse: what the document holds, as the store charges it. */
export function weigh(document: DocumentNode, weight: ParsedWeight): void {
  (document as Weighed)[BYTES] = sizeOf(document, weight);
}

/** What `weigh` found (at least 1, an LRU's size); a document parsed elsewhere, its text alone. */
export function documentBytes(document: DocumentNode): number {
  return Math.max(1, (document as Weighed)[BYTES] ?? sizeOf(document, { nodes: 0, stringChars: 0 }));
}

/** Apollo's document store, replaced (docs/architecture.md#parsing-validation-and-execution says why). Kept
 * from a document's second sight: most are sent once, and each one kept is promoted to the old generation. */
export class DocumentStore implements KeyValueCache<DocumentNode> {
  private readonly documents: LRUCache<string, DocumentNode>;
  private readonly seenOnce = new LRUCache<string, true>({ max: MAX_SEEN_ONCE });
  /** Validated on first sight, or a refused text's stand-in, waiting for Apollo's `get` of the same request. */
  private readonly handedOff: LRUCache<string, DocumentNode>;

  constructor(maxBytes: number) {
    this.documents = new LRUCache({ maxSize: maxBytes });
    const share = Math.max(1, Math.floor(maxBytes * HANDED_OFF_SHARE));
    this.handedOff = new LRUCache({ max: MAX_HANDED_OFF, maxSize: share });
  }

  /** Kept documents and the bytes charged for them (bench/documentBytes.ts weighs the charge). */
  get stats() {
    return { entries: this.documents.size, bytes: this.documents.calculatedSize };
  }

  /** A document admitted or validated; never a refused text's stand-in. */
  byHash(queryHash: string): DocumentNode | undefined {
    const handed = this.handedOff.get(queryHash);
    return this.documents.get(queryHash) ?? (refusalOf(handed) === undefined ? handed : undefined);
  }

  /** Validated, for Apollo's look-up of the same request (HTTP) only, admitted or not; Weighed by admission's parse. */
  handOff(queryHash: string, document: DocumentNode): void {
    this.handedOff.set(queryHash, document, { size: documentBytes(document) });
  }

  /**
   * A text admission refused at parsing or validation (HTTP): Apollo's `get` of the same request takes, in
   * place of parsing and validating the text again to word its own errors, a document of no definitions
   * holding the refusal. Apollo resolves no operation from it and goes on to `didResolveOperation`; the
   * execution plugin answers the refusal as Apollo answers a document that fails. Charged for what its
   * errors hold: the document they point into, or the text that did not parse.
   */
  handOffRefusal(queryHash: string, refusal: readonly GraphQLError[], held: DocumentNode | string): void {
    const standIn = refusedTextStandIn(refusal);
    const size = typeof held === 'string' ? Math.max(1, held.length * widthOf(held)) : documentBytes(held);
    this.handedOff.set(queryHash, standIn, { size });
  }

  /** Admitted: kept from its second sight (most documents are sent once). */
  keep(queryHash: string, document: DocumentNode): void {
    if (this.documents.has(queryHash)) return;
    if (this.seenOnce.delete(queryHash)) this.documents.set(queryHash, document, { size: documentBytes(document) });
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
