import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import type { EncryptionKeys } from '../config/encryptionKeys';

/** A value opens only under the `context` (its key) it was sealed for; else undefined, never an exception. */
export interface ValueCipher {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string | undefined;
}

export const PASS_THROUGH: ValueCipher = Object.freeze({
  seal: (plaintext: string) => plaintext,
  open: (sealed: string) => sealed,
});

const VERSION = 'gw1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_CHARS = 8;
const HEADER_CHARS = VERSION.length + KEY_ID_CHARS + 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** It says nothing of the key. */
export function keyIdOf(key: Buffer): string {
  const named = Buffer.concat([Buffer.from('cse-jobs-gateway redis value key id\0'), key]);
  return hash('sha256', named, 'base64url').slice(0, KEY_ID_CHARS);
}

/** `gw1.<key id>.<base64url of IV, ciphertext, tag>`, header and context authenticated. */
export function aesGcmCipher(keys: readonly Buffer[]): ValueCipher {
  if (keys.length === 0 || keys.some((key) => key.length !== 32)) {
    throw new RangeError('AES-256 needs one or more keys of 32 bytes');
  }
  // The first key of an id wins: the one that seals is the first of all.
  const byId = new Map(keys.map((key) => [keyIdOf(key), Buffer.from(key)] as const).reverse());
  const sealing = Buffer.from(keys[0]!);
  const header = `${VERSION}${keyIdOf(sealing)}.`;
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealing, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(header + context));
      const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return header + body.toString('base64url');
    },
    open(sealed, context) {
      if (typeof sealed !== 'string' || !sealed.startsWith(VERSION) || sealed.charAt(HEADER_CHARS - 1) !== '.') return undefined;
      const key = byId.get(sealed.slice(VERSION.length, VERSION.length + KEY_ID_CHARS));
      const text = sealed.slice(HEADER_CHARS);
      if (key === undefined || !BASE64URL.test(text)) return undefined;
      const body = Buffer.from(text, 'base64url');
      // Only the canonical text of the bytes: else a changed last character could decode to the same bytes.
      if (body.length < IV_BYTES + TAG_BYTES || body.toString('base64url') !== text) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(sealed.slice(0, HEADER_CHARS) + context));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        const plaintext = decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES));
        return Buffer.concat([plaintext, decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** With a key, `expiresAt` (wall-clock ms) in front, to be sealed with the value; without one, as it is. */
export function withExpiry(cipher: ValueCipher, text: string, expiresAt: number): string {
  return cipher === PASS_THROUGH ? text : `${expiresAt}\n${text}`;
}

/** What `cipher` opened while its sealed expiry has not passed, with the time left (no key: Infinity). */
export function unexpired(cipher: ValueCipher, text: string | undefined, now = Date.now()) {
  if (text === undefined) return undefined;
  if (cipher === PASS_THROUGH) return { text, leftMs: Infinity };
  const end = text.indexOf('\n');
  const leftMs = end > 0 ? Number(text.slice(0, end)) - now : Number.NaN;
  return leftMs > 0 ? { text: text.slice(end + 1), leftMs } : undefined;
}

export function valueCipherOf(keys: EncryptionKeys | undefined): ValueCipher {
  return keys === undefined ? PASS_THROUGH : aesGcmCipher(keys.reveal());
}
