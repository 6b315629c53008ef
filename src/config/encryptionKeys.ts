import { inspect } from 'node:util';

/** AES-256 keys: 32 bytes in base64 (43 characters and one `=`) or base64url (43, the `=` optional). */
const KEY_TEXT = /^([A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/;
const REDACTED = '[redacted]';

/** The first seals, every one opens (rotation); held privately: a logged configuration never shows them. */
export class EncryptionKeys {
  readonly #keys: readonly Buffer[];

  constructor(keys: readonly Buffer[]) {
    this.#keys = Object.freeze(keys.map((key) => Buffer.from(key)));
  }

  get count(): number {
    return this.#keys.length;
  }

  reveal(): Buffer[] {
    return this.#keys.map((key) => Buffer.from(key));
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `EncryptionKeys(${this.#keys.length}) ${REDACTED}`;
  }
}

/** Comma-separated keys. A refusal names a key by position and length, never its characters: it is logged. */
export function parseEncryptionKeys(raw: string): { keys: EncryptionKeys } | { problem: string } {
  const parts = raw.split(',').map((part) => part.trim());
  const keys: Buffer[] = [];
  for (const [index, part] of parts.entries()) {
    const which = parts.length === 1 ? 'the key' : `key ${index + 1} of ${parts.length}`;
    if (part === '') return { problem: `${which} is empty` };
    const key = Buffer.from(part, 'base64');
    // The 43rd character carries two bits past the 32 bytes: zero, else two texts would be one key.
    const canonical = key.toString('base64') === part.replace(/-/g, '+').replace(/_/g, '/').padEnd(44, '=');
    if (!KEY_TEXT.test(part) || key.length !== 32 || !canonical) {
      return { problem: `${which} (${part.length} characters) is not 32 bytes in base64 or base64url` };
    }
    keys.push(key);
  }
  return { keys: new EncryptionKeys(keys) };
}
