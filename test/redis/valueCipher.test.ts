import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { parseEncryptionKeys } from '../../src/config/encryptionKeys';
import { aesGcmCipher, keyIdOf, PASS_THROUGH, unexpired, valueCipherOf, withExpiry } from '../../src/redis/valueCipher';

const key = () => randomBytes(32);
const OLD = key();
const NEW = key();
/** Any well-formed string: every code point, ASCII to astral (lone surrogates are not text UTF-8 can hold). */
const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const anyContext = fc.string({ unit: 'binary', maxLength: 60 });

describe('value cipher (AES-256-GCM)', () => {
  const cipher = aesGcmCipher([OLD]);

  it('opens what it sealed, for any string and context', () => {
    fc.assert(
      fc.property(anyText, anyContext, (plaintext, context) => {
        expect(cipher.open(cipher.seal(plaintext, context), context)).toBe(plaintext);
      }),
    );
  });

  it.each([
    ['the empty string', '', 'apq:x'],
    ['a document', 'query { engine(id: "1") { name } }', 'apq:abc'],
    ['non-ASCII text', 'Jöb “naïve” 日本語 😀 \u0000 \n', 'cse-gw:{digest}:polls:engine-1'],
    ['100 000 characters, empty context', 'x'.repeat(100_000), ''],
  ])('round-trips %s', (_name, plaintext, context) => {
    expect(cipher.open(cipher.seal(plaintext, context), context)).toBe(plaintext);
  });

  it('seals the same value differently each time (a random IV per value), in compact base64url text', () => {
    const sealed = new Set(Array.from({ length: 50 }, () => cipher.seal('same', 'ctx')));
    expect(sealed.size).toBe(50);
    for (const text of sealed) {
      expect(text).toMatch(/^gw1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
      expect(text).not.toContain('same');
    }
    // Header, IV, tag and base64url's 4/3: the overhead is small and fixed.
    const long = 'y'.repeat(3000);
    expect(cipher.seal(long, 'ctx').length).toBeLessThan(long.length * (4 / 3) + 60);
  });

  it('names its key by an id derived from it, never the key itself', () => {
    const sealed = cipher.seal('v', 'c');
    expect(sealed.slice(4, 12)).toBe(keyIdOf(OLD));
    expect(sealed).not.toContain(OLD.toString('base64url').slice(0, 8));
    expect(keyIdOf(OLD)).not.toBe(keyIdOf(NEW));
  });

  it('opens nothing under another context', () => {
    fc.assert(
      fc.property(anyText, anyContext, anyContext, (plaintext, context, other) => {
        fc.pre(context !== other);
        expect(cipher.open(cipher.seal(plaintext, context), other)).toBeUndefined();
      }),
    );
    // A value copied from one APQ key, channel or scope to another.
    expect(cipher.open(cipher.seal('doc', 'apq:a'), 'apq:b')).toBeUndefined();
  });

  it('opens nothing with a byte changed anywhere in its body or header', () => {
    fc.assert(
      fc.property(anyText, fc.nat(), fc.integer({ min: 1, max: 255 }), (plaintext, at, flip) => {
        const sealed = cipher.seal(plaintext, 'ctx');
        const header = sealed.slice(0, 13);
        const body = Buffer.from(sealed.slice(13), 'base64url');
        body[at % body.length]! ^= flip;
        expect(cipher.open(header + body.toString('base64url'), 'ctx')).toBeUndefined();
      }),
    );
  });

  it('opens nothing with a character of its text changed', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(anyText, fc.nat(), fc.nat(), (plaintext, at, pick) => {
        const sealed = cipher.seal(plaintext, 'ctx');
        const index = at % sealed.length;
        const replacement = alphabet[pick % alphabet.length]!;
        fc.pre(replacement !== sealed[index]);
        const changed = sealed.slice(0, index) + replacement + sealed.slice(index + 1);
        expect(cipher.open(changed, 'ctx')).toBeUndefined();
      }),
    );
  });

  it('opens nothing truncated or extended', () => {
    fc.assert(
      fc.property(anyText, fc.nat(), (plaintext, cut) => {
        const sealed = cipher.seal(plaintext, 'ctx');
        expect(cipher.open(sealed.slice(0, cut % sealed.length), 'ctx')).toBeUndefined();
        expect(cipher.open(`${sealed}A`, 'ctx')).toBeUndefined();
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['plain JSON of before', '{"from":"r","result":{}}'],
    ['a GraphQL document', '{ engines { totalCount } }'],
    ['the header alone', `gw1.${keyIdOf(OLD)}.`],
    ['a body too short for IV and tag', `gw1.${keyIdOf(OLD)}.AAAA`],
    ['another version', `gw2.${keyIdOf(OLD)}.${'A'.repeat(40)}`],
    ['not base64url', `gw1.${keyIdOf(OLD)}.${'A'.repeat(39)}+`],
    ['padding', `gw1.${keyIdOf(OLD)}.${'A'.repeat(40)}==`],
    ['whitespace', ` gw1.${keyIdOf(OLD)}.${'A'.repeat(40)}`],
  ])('opens nothing malformed (%s), and never throws', (_name, text) => {
    expect(cipher.open(text, 'ctx')).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), anyContext, (text, context) => {
        expect(cipher.open(text, context)).toBeUndefined();
        expect(cipher.open(`gw1.${keyIdOf(OLD)}.${text}`, context)).toBeUndefined();
      }),
    );
  });

  it('opens nothing sealed with another key', () => {
    const other = aesGcmCipher([NEW]);
    fc.assert(
      fc.property(anyText, (plaintext) => {
        expect(other.open(cipher.seal(plaintext, 'ctx'), 'ctx')).toBeUndefined();
        expect(cipher.open(other.seal(plaintext, 'ctx'), 'ctx')).toBeUndefined();
      }),
    );
    // Even under the other key's id: the tag is the key's.
    const forged = `gw1.${keyIdOf(OLD)}.${other.seal('x', 'ctx').slice(13)}`;
    expect(cipher.open(forged, 'ctx')).toBeUndefined();
  });

  describe('rotation', () => {
    const before = aesGcmCipher([OLD]);
    const during = aesGcmCipher([NEW, OLD]);
    const after = aesGcmCipher([NEW]);

    it('opens with [new, old] what the old key sealed', () => {
      fc.assert(
        fc.property(anyText, anyContext, (plaintext, context) => {
          expect(during.open(before.seal(plaintext, context), context)).toBe(plaintext);
        }),
      );
    });

    it('seals with the first key: [new, old] writes what [new] alone opens, and [old] does not', () => {
      const sealed = during.seal('value', 'ctx');
      expect(sealed.slice(4, 12)).toBe(keyIdOf(NEW));
      expect(after.open(sealed, 'ctx')).toBe('value');
      expect(during.open(sealed, 'ctx')).toBe('value');
      expect(before.open(sealed, 'ctx')).toBeUndefined();
    });

    it('no longer opens, with [new] alone, what the old key sealed', () => {
      expect(after.open(before.seal('value', 'ctx'), 'ctx')).toBeUndefined();
    });

    it('takes keys in both orders as the introduction step ([old, new]: old still seals, new opens)', () => {
      const introducing = aesGcmCipher([OLD, NEW]);
      expect(before.open(introducing.seal('v', 'c'), 'c')).toBe('v');
      expect(introducing.open(after.seal('v', 'c'), 'c')).toBe('v');
    });
  });
});

describe('value cipher without a key (pass-through)', () => {
  it('is the identity: values are written as they were before encryption existed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), anyContext, (text, context) => {
        expect(PASS_THROUGH.seal(text, context)).toBe(text);
        expect(PASS_THROUGH.open(text, context)).toBe(text);
      }),
    );
    expect(valueCipherOf(undefined)).toBe(PASS_THROUGH);
  });
});

describe('valueCipherOf (REDIS_ENCRYPTION_KEY)', () => {
  it('seals with the first configured key and opens with every one', () => {
    const parsed = parseEncryptionKeys(`${NEW.toString('base64')}, ${OLD.toString('base64url')}`);
    if (!('keys' in parsed)) throw new Error(parsed.problem);
    const cipher = valueCipherOf(parsed.keys);
    expect(cipher.seal('v', 'c').slice(4, 12)).toBe(keyIdOf(NEW));
    expect(cipher.open(aesGcmCipher([OLD]).seal('v', 'c'), 'c')).toBe('v');
  });
});

describe('parseEncryptionKeys', () => {
  const raw = key();

  it.each([
    ['base64 (44 characters)', raw.toString('base64')],
    ['base64url (43 characters)', raw.toString('base64url')],
    ['base64url with its padding', `${raw.toString('base64url')}=`],
    ['base64 with blanks around it', `  ${raw.toString('base64')}\t`],
  ])('takes a key in %s', (_name, text) => {
    const parsed = parseEncryptionKeys(text);
    expect('keys' in parsed && parsed.keys.reveal()).toEqual([raw]);
  });

  it('takes several keys, in order', () => {
    const parsed = parseEncryptionKeys(`${NEW.toString('base64')},${OLD.toString('base64url')}`);
    expect('keys' in parsed && parsed.keys.reveal()).toEqual([NEW, OLD]);
  });

  const secret = raw.toString('base64');
  it.each([
    ['too short', secret.slice(0, 40), /the key \(40 characters\) is not 32 bytes/],
    ['too long (48 bytes)', randomBytes(48).toString('base64'), /not 32 bytes/],
    ['a passphrase', 'correct horse battery staple, really long one', /key 1 of 2 \(28 characters\) is not 32 bytes/],
    ['hex (64 characters)', raw.toString('hex'), /the key \(64 characters\) is not 32 bytes/],
    ['mixed alphabets', `+${secret.slice(1, 20)}_${secret.slice(21)}`, /the key \(44 characters\) is not 32 bytes/],
    ['an empty entry (trailing comma)', `${secret},`, /key 2 of 2 is empty/],
    ['a non-canonical last character', `${raw.toString('base64url').slice(0, 42)}${nonCanonicalLast(raw)}`, /not 32 bytes/],
  ])('refuses %s, saying which key and never its value', (_name, text, message) => {
    const parsed = parseEncryptionKeys(text);
    expect('problem' in parsed).toBe(true);
    const problem = (parsed as { problem: string }).problem;
    expect(problem).toMatch(message);
    for (const part of text.split(',')) if (part.trim().length >= 4) expect(problem).not.toContain(part.trim().slice(0, 4));
  });

  it('never shows the key bytes when logged, inspected or serialized', () => {
    const parsed = parseEncryptionKeys(secret);
    if (!('keys' in parsed)) throw new Error(parsed.problem);
    const shown = [JSON.stringify({ keys: parsed.keys }), inspect(parsed.keys), String(parsed.keys), inspect({ config: parsed.keys }, { depth: 10, showHidden: true })];
    for (const text of shown) {
      expect(text).not.toContain(secret.slice(0, 8));
      expect(text).not.toContain(raw.toString('hex').slice(0, 8));
      expect(text).toContain('redacted');
    }
    expect(Object.keys(parsed.keys)).toEqual([]);
  });
});

describe('an expiry sealed with a value (withExpiry, unexpired)', () => {
  const keyed = aesGcmCipher([OLD]);

  it('opens what it sealed until its expiry, with the time left, and nothing from then on', () => {
    const life = fc.integer({ min: -1_000_000, max: 1_000_000 });
    fc.assert(
      fc.property(anyText, fc.integer({ min: 0, max: 2 ** 50 }), life, (text, now, lifeMs) => {
        const sealed = keyed.seal(withExpiry(keyed, text, now + lifeMs), 'ctx');
        expect(unexpired(keyed, keyed.open(sealed, 'ctx'), now)).toEqual(lifeMs > 0 ? { text, leftMs: lifeMs } : undefined);
      }),
    );
  });

  it.each([
    ['the previous format (a JSON header first)', '{"kind":"ok","bytes":1}\n1'],
    ['an empty expiry', '\nvalue'],
    ['an expiry and no line after it', '1700000000000'],
    ['an expiry that is no number', 'soon\nvalue'],
    ['nothing opened', undefined],
  ])('reads %s as nothing', (_name, text) => {
    expect(unexpired(keyed, text, 0)).toBeUndefined();
  });

  it('changes nothing without a key: the value as it is, never expiring', () => {
    expect(withExpiry(PASS_THROUGH, 'value', 5)).toBe('value');
    expect(unexpired(PASS_THROUGH, 'value', 10)).toEqual({ text: 'value', leftMs: Infinity });
    expect(unexpired(PASS_THROUGH, undefined, 10)).toBeUndefined();
  });
});

/** The 43rd base64url character with the same 6 bits' first 4 (the key's) and nonzero last 2: decodes to the same bytes. */
function nonCanonicalLast(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(bytes.toString('base64url')[42]!);
  return alphabet[last | 1]!;
}
