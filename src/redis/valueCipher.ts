import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import type { EncryptionKeys } from '../config/encryptionKeys';

/** What the gateway writes to Redis; a value opens only under the `context` (its key) it was sealed for. */
export interface ValueCipher {
  seal(plaintext: string, context: string): string;
  /** The plaintext, or undefined (a miss, never an exception) for anything this cipher did not seal for `context`. */
  open(sealed: string, context: string): string | undefined;
}

/** Without REDIS_ENCRYPTION_KEY: values are written and read as they are. */
export const PASS_THROUGH: ValueCipher = Object.freeze({
  seal: (plaintext: string) => plaintext,
  open: (sealed: string) => sealed,
});

const VERSION = 'gw1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Characters of a key id: 6 bytes of a digest, in base64url. */
const KEY_ID_CHARS = 8;
const HEADER_CHARS = VERSION.length + KEY_ID_CHARS + 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

interface SealingKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The id a sealed value names its key by; it says nothing of the key. */
export function keyIdOf(key: Buffer): string {
  return hash('sha256', Buffer.concat([Buffer.from('cse-jobs-gateway redis value key id\0'), key]), 'base64url').slice(0, KEY_ID_CHARS);
}

/**
 * AES-256-GCM: `gw1.<key id>.<base64url of IV, ciphertext, tag>`, a random IV per value, the
 * header and the context authenticated. The first key seals; every key opens (rotation).
 */
export class AesGcmCipher implements ValueCipher {
  private readonly sealing: SealingKey;
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new RangeError('AesGcmCipher needs at least one key');
    const all = keys.map((key) => {
      if (key.length !== 32) throw new RangeError('AES-256 keys are 32 bytes');
      return { id: keyIdOf(key), key: Buffer.from(key) };
    });
    this.sealing = all[0]!;
    const byId = new Map<string, Buffer>();
    for (const { id, key } of all) if (!byId.has(id)) byId.set(id, key);
    this.byId = byId;
  }

  seal(plaintext: string, context: string): string {
    const header = `${VERSION}${this.sealing.id}.`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(header, context));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return header + body.toString('base64url');
  }

  open(sealed: string, context: string): string | undefined {
    if (typeof sealed !== 'string' || !sealed.startsWith(VERSION) || sealed.charAt(HEADER_CHARS - 1) !== '.') return undefined;
    const key = this.byId.get(sealed.slice(VERSION.length, VERSION.length + KEY_ID_CHARS));
    if (key === undefined) return undefined;
    const text = sealed.slice(HEADER_CHARS);
    if (!BASE64URL.test(text)) return undefined;
    const body = Buffer.from(text, 'base64url');
    // Only the canonical text of the bytes: else a changed last character could decode to the same bytes.
    if (body.length < IV_BYTES + TAG_BYTES || body.toString('base64url') !== text) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(sealed.slice(0, HEADER_CHARS), context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]);
      return plaintext.toString('utf8');
    } catch {
      return undefined;
    }
  }
}

function additionalData(header: string, context: string): Buffer {
  return Buffer.from(header + context, 'utf8');
}

export function valueCipherOf(keys: EncryptionKeys | undefined): ValueCipher {
  return keys === undefined ? PASS_THROUGH : new AesGcmCipher(keys.reveal());
}
