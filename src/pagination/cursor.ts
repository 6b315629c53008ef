/**
 * Opaque, versioned cursors bound to the connection that issued them.
 *
 * Implements the Relay Cursor Connections spec, "Cursor"
 * (https://relay.dev/graphql/connections.htm#sec-Cursor): a cursor is an opaque string the
 * client passes back as `after`/`before`. Ours carries the item's position (where to look) and
 * its id (to find it again when newer items have pushed it down the list), plus a connection key
 * so a cursor from engine A's jobs cannot silently page through engine B's.
 *
 * Wire form: base64url (no padding) of the UTF-8 text `v1|<key>|<position>|<id>`. The id is the
 * rest of the text after the third `|`, so ids may themselves contain `|`.
 */
import { hash } from 'node:crypto';
import { GatewayError } from '../errors/GatewayError';

/** The version tag; bump it when the layout changes so old cursors fail loudly, not subtly. */
const VERSION = 'v1';
const SEPARATOR = '|';

/**
 * Longest cursor we accept. Ours are far shorter (12-char key, ≤ 10-digit position, short ids);
 * the bound keeps a hostile argument from costing more than a glance.
 */
export const MAX_CURSOR_LENGTH = 512;

/**
 * Highest position a cursor may carry. The upstream counts with 32-bit integers, and the bound
 * keeps every window computed from a forged cursor within safe-integer arithmetic.
 */
export const MAX_CURSOR_POSITION = 2 ** 31 - 1;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/**
 * A short stable hash of what identifies a list (e.g. project, engine, filters), to bind
 * cursors to it. Each part is tagged with its type and length-prefixed before hashing, so
 * `['a|b']` and `['a', 'b']` differ, and `1` (number) differs from `'1'` (string). `null` and
 * `undefined` both mean "argument not given" (GraphQL treats an omitted argument and an explicit
 * null alike) and hash the same, but differ from `''`.
 *
 * @returns 12 base64url characters (72 bits of SHA-256): collisions only matter between lists
 *   one client pages through, so this is ample.
 */
export function connectionKey(parts: readonly (string | number | null | undefined)[]): string {
  // One string hashed at once (the one-shot hash): the same bytes as feeding the parts one by one.
  let text = '';
  for (const part of parts) {
    if (part === null || part === undefined) {
      text += 'n;';
    } else if (typeof part === 'number') {
      const digits = String(part);
      text += `d${digits.length}:${digits};`;
    } else {
      text += `s${Buffer.byteLength(part, 'utf8')}:${part};`;
    }
  }
  return hash('sha256', text, 'base64url').slice(0, 12);
}

/**
 * Encodes the cursor of the item at `position` (0-based, in the list as fetched) with id `id`,
 * for the connection `key`. Runs once per edge a client asks a cursor for, so it only checks
 * what would otherwise produce a cursor {@link decodeCursor} rejects later.
 *
 * @throws Error on a key containing `|`, a position outside 0..MAX_CURSOR_POSITION, an empty id,
 *   or a cursor longer than MAX_CURSOR_LENGTH: each is a gateway bug, not user input.
 */
export function encodeCursor(key: string, position: number, id: string): string {
  if (key.includes(SEPARATOR)) throw new Error(`encodeCursor: the key must not contain "|": ${key}`);
  if (!Number.isInteger(position) || position < 0 || position > MAX_CURSOR_POSITION) {
    throw new Error(`encodeCursor: position must be an integer 0..${MAX_CURSOR_POSITION}, got ${position}`);
  }
  if (id === '') throw new Error('encodeCursor: the id must not be empty');
  const cursor = Buffer.from(`${VERSION}|${key}|${position}|${id}`, 'utf8').toString('base64url');
  if (cursor.length > MAX_CURSOR_LENGTH) {
    // Ids come from the upstream's answers: one this long is its broken contract, not our bug.
    throw new GatewayError('UPSTREAM_BAD_RESPONSE', `The upstream sent an id too long to page by (${id.length} characters).`);
  }
  return cursor;
}

/** Where a cursor points: the position the item had when the cursor was made, and its id. */
export interface DecodedCursor {
  position: number;
  id: string;
}

/**
 * Decodes a cursor a client sent as `after` or `before` for the connection `key`.
 *
 * @throws GatewayError `BAD_USER_INPUT` with `details.argumentName` for anything that is not a
 *   cursor this gateway issued for this connection: over-long, not canonical base64url, not
 *   UTF-8, another version, too few fields, a position that is not a decimal integer in
 *   0..MAX_CURSOR_POSITION, an empty id — or a well-formed cursor of another list.
 */
export function decodeCursor(cursor: string, key: string, argName: 'after' | 'before'): DecodedCursor {
  const fail = (why: string): GatewayError =>
    new GatewayError('BAD_USER_INPUT', `Argument "${argName}" is not a valid cursor: ${why}.`, {
      details: { argumentName: argName },
    });

  if (typeof cursor !== 'string' || cursor.length === 0) throw fail('it is empty');
  if (cursor.length > MAX_CURSOR_LENGTH) throw fail(`it is longer than ${MAX_CURSOR_LENGTH} characters`);
  if (!BASE64URL.test(cursor)) throw fail('it is not base64url');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Re-encoding must give the input back: this rejects invalid UTF-8 (decoded to U+FFFD) and
  // non-canonical base64 (stray trailing bits), i.e. anything we cannot have issued.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw fail('it is not base64url of UTF-8 text');

  const s1 = text.indexOf(SEPARATOR);
  const s2 = s1 < 0 ? -1 : text.indexOf(SEPARATOR, s1 + 1);
  const s3 = s2 < 0 ? -1 : text.indexOf(SEPARATOR, s2 + 1);
  const version = s1 < 0 ? text : text.slice(0, s1);
  if (version !== VERSION) throw fail('unknown cursor version');
  if (s3 < 0) throw fail('it has the wrong number of fields');

  const cursorKey = text.slice(s1 + 1, s2);
  const positionText = text.slice(s2 + 1, s3);
  const id = text.slice(s3 + 1);
  if (!DECIMAL.test(positionText)) throw fail('its position is not a non-negative integer');
  const position = Number(positionText);
  if (position > MAX_CURSOR_POSITION) throw fail('its position is out of range');
  if (id === '') throw fail('its id is empty');
  if (cursorKey !== key) {
    throw new GatewayError(
      'BAD_USER_INPUT',
      `Argument "${argName}": the cursor belongs to another list (another engine, filter or project); ` +
        'request the first page of this list again.',
      { details: { argumentName: argName } },
    );
  }
  return { position, id };
}
