/**
 * Opaque, versioned cursors: base64url of `v1|<key>|<position>|<id>`. The position says where to
 * look, the id finds the item again when newer items pushed it down, and the connection key keeps
 * a cursor of one list from paging through another. The id is the rest after the third `|`.
 */
import { hash } from 'node:crypto';
import { GatewayError } from '../errors/GatewayError';

/** Bumped when the layout changes, so old cursors fail loudly. */
const VERSION = 'v1';
const SEPARATOR = '|';

/** Longest cursor accepted: a hostile argument costs no more than a glance. */
export const MAX_CURSOR_LENGTH = 512;

/** The upstream counts in 32 bits; windows from forged cursors stay in safe integers. */
export const MAX_CURSOR_POSITION = 2 ** 31 - 1;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/**
 * A short stable hash of what identifies a list (project, engine, filters). Parts are tagged with
 * their type and length, so `['a|b']` and `['a', 'b']` differ, as do `1` and `'1'`; `null` and
 * `undefined` (an argument not given) hash the same. 72 bits: collisions only matter between
 * the lists one client pages through.
 */
export function connectionKey(parts: readonly (string | number | null | undefined)[]): string {
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

/** Checks only what would make a cursor {@link decodeCursor} refuses: a gateway bug. */
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
  const fail = (why: string): GatewayError =>
    new GatewayError('BAD_USER_INPUT', `Argument "${argName}" is not a valid cursor: ${why}.`, {
      details: { argumentName: argName },
    });

  if (typeof cursor !== 'string' || cursor.length === 0) throw fail('it is empty');
  if (cursor.length > MAX_CURSOR_LENGTH) throw fail(`it is longer than ${MAX_CURSOR_LENGTH} characters`);
  if (!BASE64URL.test(cursor)) throw fail('it is not base64url');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Re-encoding must give the input back: refuses invalid UTF-8 and non-canonical base64.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) {
    throw fail('it is not base64url of UTF-8 text');
  }

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
