// Cursors: base64url of `v1|<key>|<position>|<id>` (the id is the rest). The id finds the item
// again when newer items pushed it down; the key keeps a cursor of one list from paging another.
import { hash } from 'node:crypto';
import { LARGEST_PAGE_SIZE } from '../config/loadConfig';
import { GatewayError } from '../errors/GatewayError';

/** Bumped when the layout changes, so old cursors fail loudly. */
const VERSION = 'v1';
const SEPARATOR = '|';

/** Longest cursor accepted: a hostile argument costs no more than a glance. */
export const MAX_CURSOR_LENGTH = 512;

/** The upstream counts in 32 bits: the pages asked for around a forged cursor (at most two of the largest
 * size past it) must still end below 2^31. A list's total is bounded alike. */
export const MAX_CURSOR_POSITION = 2 ** 31 - 1 - 2 * LARGEST_PAGE_SIZE - 2;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Parts framed by type and length (`['a|b']` ≠ `['a', 'b']`, `1` ≠ `'1'`), an omitted one as null,
 * as ever: cursors stay valid across versions. 72 bits: collisions only matter within one client's lists. */
export function connectionKey(parts: readonly (string | number | null | undefined)[]): string {
  let text = '';
  for (const part of parts) {
    if (part === null || part === undefined) text += 'n;';
    else if (typeof part === 'number') text += `d${String(part).length}:${part};`;
    else text += `s${Buffer.byteLength(part, 'utf8')}:${part};`;
  }
  return hash('sha256', text, 'base64url').slice(0, 12);
}

/** Refuses what decodeCursor would: a gateway bug. */
export function encodeCursor(key: string, position: number, id: string): string {
  if (key.includes(SEPARATOR)) throw new Error(`encodeCursor: the key must not contain "|": ${key}`);
  if (!Number.isInteger(position) || position < 0 || position > MAX_CURSOR_POSITION) {
    throw new Error(`encodeCursor: position must be an integer 0..${MAX_CURSOR_POSITION}, got ${position}`);
  }
  if (id === '') throw new Error('encodeCursor: the id must not be empty');
  const cursor = Buffer.from(`${VERSION}|${key}|${position}|${id}`, 'utf8').toString('base64url');
  if (cursor.length > MAX_CURSOR_LENGTH) {
    // Ids come from the upstream's answers: one this long is its broken contract, not our bug.
    const message = `The upstream sent an id too long to page by (${id.length} characters).`;
    throw new GatewayError('UPSTREAM_BAD_RESPONSE', message);
  }
  return cursor;
}

export interface DecodedCursor {
  position: number;
  id: string;
}

/** @throws GatewayError BAD_USER_INPUT for anything but a cursor issued for this connection. */
export function decodeCursor(cursor: string, key: string, argName: 'after' | 'before'): DecodedCursor {
  const refuse = (message: string) =>
    new GatewayError('BAD_USER_INPUT', message, { details: { argumentName: argName } });
  const fail = (why: string) => refuse(`Argument "${argName}" is not a valid cursor: ${why}.`);
  if (typeof cursor !== 'string' || cursor.length === 0) throw fail('it is empty');
  if (cursor.length > MAX_CURSOR_LENGTH) throw fail(`it is longer than ${MAX_CURSOR_LENGTH} characters`);
  if (!BASE64URL.test(cursor)) throw fail('it is not base64url');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Re-encoding must give the input back: refuses invalid UTF-8 and non-canonical base64.
  if (Buffer.from(text).toString('base64url') !== cursor) throw fail('it is not base64url of UTF-8 text');
  const [version, cursorKey, positionText = '', ...rest] = text.split(SEPARATOR);
  if (version !== VERSION) throw fail('unknown cursor version');
  if (rest.length === 0) throw fail('it has the wrong number of fields');
  const id = rest.join(SEPARATOR);
  if (!DECIMAL.test(positionText)) throw fail('its position is not a non-negative integer');
  const position = Number(positionText);
  if (position > MAX_CURSOR_POSITION) throw fail('its position is out of range');
  if (id === '') throw fail('its id is empty');
  if (cursorKey !== key) {
    const why = 'the cursor belongs to another list (another engine, filter or project)';
    throw refuse(`Argument "${argName}": ${why}; request the first page of this list again.`);
  }
  return { position, id };
}
