import type { FormattedExecutionResult } from 'graphql';
import type { AbortSignalLike } from '../cache/abort';
import { isTimeoutReason } from '../upstream/errorMapping';
import { nextTurn, TurnMeter } from '../upstream/turns';

/** An answer whose budget counted this many bytes is written in its caller's turns, not in one. */
export const WRITTEN_IN_TURNS_FROM_BYTES = 256 * 1024;
/** Characters of JSON written in one turn: small objects cost the most per character. */
const WRITE_CHARS_PER_TURN = 64 * 1024;
/** Characters encoded as UTF-8 in one turn: a copy, cheaper per character than writing JSON. */
const ENCODE_CHARS_PER_TURN = 1024 * 1024;
/** Values a subtree may hold and still be written by JSON.stringify at once. */
const SMALL_SUBTREE_VALUES = 64;
/** What looking at one value costs a turn, in characters written. */
const LOOKED_VALUE_CHARS = 8;

export interface Writer {
  /** Whose turns the writing takes (`callerDigest`). */
  readonly caller?: string;
  /** The operation's: once the caller has left, what is left of the text is not written. */
  readonly signal?: AbortSignalLike;
}

/** Large answers' data (the executor's own object), and who writes them. */
const inTurns = new WeakMap<object, Writer>();

/** `data` is written in turns when its operation's budget counted enough bytes (`sentBytes`) to make it large. */
export function writeInTurnsIfLarge(data: unknown, budget: Writer & { readonly sentBytes: number }): void {
  if (budget.sentBytes >= WRITTEN_IN_TURNS_FROM_BYTES && typeof data === 'object' && data !== null) inTurns.set(data, budget);
}

/**
 * Apollo's `stringifyResult`: JSON.stringify, a turn's worth at a time for an answer marked large. Such an
 * answer whose caller has left is written as '' (never sent: its connection is closed, and nothing stores
 * or shares an answer cut short).
 */
export function stringifyAnswer(result: FormattedExecutionResult): string | Promise<string> {
  const large = typeof result.data === 'object' && result.data !== null ? inTurns.get(result.data) : undefined;
  return large === undefined ? JSON.stringify(result) : stringifyInTurns(result, large);
}

/** Aborted because the caller left, not because the operation's time was up (its answer is still sent). */
export const callerLeft = (signal: AbortSignalLike | undefined): boolean => signal?.aborted === true && !isTimeoutReason(signal.reason);

/** `text` as UTF-8; a long one a turn's worth at a time, in the writer's turns (empty once its caller left). */
export function encodeAnswer(text: string, writer: Writer): Buffer | Promise<Buffer> {
  return text.length <= ENCODE_CHARS_PER_TURN ? Buffer.from(text) : encodeInTurns(text, writer);
}

async function encodeInTurns(text: string, { caller, signal }: Writer): Promise<Buffer> {
  // Piece by piece: measuring the whole text's bytes first would read all of it in one turn.
  const pieces: Buffer[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + ENCODE_CHARS_PER_TURN, text.length);
    // A surrogate pair stays whole: one half alone would be written as U+FFFD.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
    pieces.push(Buffer.from(text.slice(start, end)));
    start = end;
    if (start === text.length) break;
    await nextTurn(caller);
    if (callerLeft(signal)) return Buffer.alloc(0);
  }
  return Buffer.concat(pieces);
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** A container being written: an array's next index, or an object's keys and the next one. */
interface Frame {
  readonly value: Record<string, unknown> | unknown[];
  readonly keys: string[] | undefined;
  index: number;
  /** An object has written a member (its next one needs a comma). */
  any: boolean;
}

/**
 * What JSON.stringify(value) gives, for a GraphQL answer (a tree of plain objects, arrays, primitives and
 * `toJSON`; no cycles, no boxed primitives), written a turn's worth at a time in the writer's turns; ''
 * once its signal tells the caller left. Every value is written once (a small subtree by JSON.stringify
 * itself) and looked at a bounded number of times, that look counted in the turn's work, so the work is
 * linear in the answer and so is each turn's.
 */
export async function stringifyInTurns(value: unknown, { caller, signal }: Writer, charsPerTurn = WRITE_CHARS_PER_TURN): Promise<string> {
  const turns = new TurnMeter(charsPerTurn, caller);
  const pieces: string[] = [];
  let parts: string[] = [];
  let chars = 0;
  const stack: Frame[] = [];
  const write = (text: string) => {
    parts.push(text);
    chars += text.length;
  };
  // `json`: after its toJSON, once, as JSON.stringify calls it.
  const open = (json: unknown) => {
    if (typeof json !== 'object' || json === null || small(json)) {
      // Outside an object (which skips them), what JSON.stringify writes nothing for is null.
      return write(JSON.stringify(json) ?? 'null');
    }
    const keys = Array.isArray(json) ? undefined : Object.keys(json);
    write(keys === undefined ? '[' : '{');
    stack.push({ value: json as Frame['value'], keys, index: 0, any: false });
  };
  const small = (json: object) => {
    const look = smallSize(json, charsPerTurn);
    chars += look.looked * LOOKED_VALUE_CHARS;
    return look.size !== undefined;
  };
  open(toJson(value, ''));
  while (stack.length > 0) {
    const turn = turns.due(chars);
    chars = 0;
    if (turn !== undefined) {
      pieces.push(parts.join(''));
      parts = [];
      await turn;
      if (callerLeft(signal)) return '';
    }
    const frame = stack[stack.length - 1]!;
    if (frame.keys === undefined) {
      const items = frame.value as unknown[];
      if (frame.index === items.length) {
        write(']');
        stack.pop();
        continue;
      }
      const run = primitiveRun(items, frame.index, charsPerTurn);
      if (run > frame.index) {
        // A run of strings and numbers by JSON.stringify itself: its text without the brackets.
        const text = JSON.stringify(items.slice(frame.index, run));
        write(frame.index > 0 ? `,${text.slice(1, -1)}` : text.slice(1, -1));
        frame.index = run;
        continue;
      }
      if (frame.index > 0) write(',');
      frame.index += 1;
      open(toJson(items[frame.index - 1], String(frame.index - 1)));
      continue;
    }
    if (frame.index === frame.keys.length) {
      write('}');
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.index++]!;
    const item = toJson((frame.value as Record<string, unknown>)[key], key);
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    write(`${frame.any ? ',' : ''}${JSON.stringify(key)}:`);
    frame.any = true;
    open(item);
  }
  pieces.push(parts.join(''));
  return pieces.join('');
}

function toJson(value: unknown, key: string): unknown {
  const withToJson = value as { toJSON?: unknown } | null | undefined;
  return typeof withToJson?.toJSON === 'function' ? (withToJson.toJSON as (key: string) => unknown)(key) : value;
}

/** Where the run of primitives from `start` ends, holding about `chars` characters at most past its first. */
function primitiveRun(items: readonly unknown[], start: number, chars: number): number {
  let end = start;
  let size = 0;
  while (end < items.length && size < chars) {
    const item = items[end];
    if (typeof item === 'string') size += item.length + 2;
    else if (item === null || typeof item === 'number' || typeof item === 'boolean') size += 8;
    else break;
    end += 1;
  }
  return end;
}

/**
 * About the characters `value`'s JSON takes, if it holds at most SMALL_SUBTREE_VALUES values and about
 * `chars` characters; else undefined. `looked`: the values it looked at, at most that many.
 */
function smallSize(value: object, chars: number): { readonly size: number | undefined; readonly looked: number } {
  let looked = 0;
  let size = 0;
  const stack: unknown[] = [value];
  const tooLarge = () => ({ size: undefined, looked });
  while (stack.length > 0) {
    const item = stack.pop();
    if ((looked += 1) > SMALL_SUBTREE_VALUES) return tooLarge();
    if (typeof item === 'string') size += item.length + 2;
    else if (typeof item !== 'object' || item === null) size += 8;
    else if (typeof (item as { toJSON?: unknown }).toJSON === 'function') return tooLarge();
    else if (Array.isArray(item)) {
      if (looked + stack.length + item.length > SMALL_SUBTREE_VALUES) return tooLarge();
      size += 2 + item.length;
      for (const member of item) stack.push(member);
    } else {
      const keys = Object.keys(item);
      if (looked + stack.length + keys.length > SMALL_SUBTREE_VALUES) return tooLarge();
      size += 2;
      for (const key of keys) {
        size += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    }
    if (size > chars) return tooLarge();
  }
  return { size, looked };
}
