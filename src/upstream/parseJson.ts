import type { AbortSignalLike } from '../cache/abort';
import { nextTurn, TurnMeter } from './turns';

export const UPSTREAM_BAD_BODY = 'UPSTREAM_BAD_BODY';

/** A 2xx body that is not the JSON the upstream documents; the message never quotes it. */
export class UpstreamBodyError extends Error {
  readonly code = UPSTREAM_BAD_BODY;
  override readonly name = 'UpstreamBodyError';

  /** `outsized`: larger or deeper than the gateway reads, which the page asked for decides (or a job's content). */
  constructor(message: string, options?: ErrorOptions & { readonly outsized?: boolean }) {
    super(message, options);
    this.outsized = options?.outsized ?? false;
  }

  readonly outsized: boolean;
}

const INTEGER_LITERAL = /^-?\d+$/;

// For a text JSON.parse took already: outside strings, digits only occur in number literals.
function parseLosslessText(text: string): unknown {
  return JSON.parse(text.replace(STRING_OR_NUMBER, quoteUnsafeInteger));
}

const STRING_OR_NUMBER = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

function quoteUnsafeInteger(literal: string): string {
  if (literal[0] === '"' || !INTEGER_LITERAL.test(literal)) return literal;
  return Number.isSafeInteger(Number(literal)) ? literal : `"${literal}"`;
}

const ID_FIELDS = ['id', 'jobId', 'latestJobId'] as const;

function hasUnsafeId(body: unknown): boolean {
  for (const item of Array.isArray(body) ? body : [body]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const record = item as Record<string, unknown>;
    for (const field of ID_FIELDS) {
      const id = record[field];
      if (typeof id === 'number' && Number.isInteger(id) && !Number.isSafeInteger(id)) return true;
    }
    const { data, tasks } = record;
    if ((Array.isArray(data) && hasUnsafeId(data)) || (Array.isArray(tasks) && hasUnsafeId(tasks))) return true;
  }
  return false;
}

// Smaller bodies parse in milliseconds however they nest; the upstream's nest under 10 levels.
const DEPTH_CHECKED_FROM_BYTES = 256 * 1024;
const MAX_BODY_DEPTH = 64;
// Pages hold at most 100 items, a job far fewer tasks: more is no answer the gateway reads, and
// assembling one list of millions, or freezing millions of objects for the cache, are long steps.
const BODY_BOUNDS: Bounds = { members: 10_000, containers: 100_000 };

/** A body as it arrives or as Redis kept it: a large one in `caller`'s turns (nextTurn). Ids beyond 2^53 keep
 * their digits. */
export async function parseUpstreamBody(text: string, caller?: string): Promise<unknown> {
  if (text.length > DEPTH_CHECKED_FROM_BYTES) return parseUpstreamJsonInTurns(text, MAX_BODY_DEPTH, PIECE_CHARS, TURN_CHARS, caller);
  try {
    const value: unknown = JSON.parse(text);
    return hasUnsafeId(value) ? parseLosslessText(text) : value;
  } catch (error) {
    throw notJson(error);
  }
}

const PIECE_CHARS = 64 * 1024;
const TURN_CHARS = 256 * 1024;
/** A child's share of a turn, in characters parsed: its own bookkeeping costs as much as that. */
const CHILD_WORK = 64;

interface Container {
  readonly kind: 'object' | 'array';
  readonly start: number;
  end: number;
  readonly commas: number[];
  readonly colons: number[];
}

const CODES = [...'"\\{}[],:'].map((char) => char.charCodeAt(0));
const [QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COMMA, COLON] = CODES;

/** The children of containers longer than `pieceChars` are parsed in groups of at most that size. */
export async function parseJsonInTurns(text: string, maxDepth: number, pieceChars = PIECE_CHARS, turnChars = TURN_CHARS, caller?: string, signal?: AbortSignalLike) {
  const containers = await scanInTurns(text, maxDepth, pieceChars, turnChars, UNBOUNDED, caller, signal);
  return new Assembly(text, containers, JSON.parse, pieceChars, caller, signal).value(0, text.length);
}

/** {@link parseJsonInTurns}, and ids beyond 2^53 keep their digits, as {@link parseUpstreamBody}'s. */
export async function parseUpstreamJsonInTurns(text: string, maxDepth: number, pieceChars = PIECE_CHARS, turnChars = TURN_CHARS, caller?: string) {
  const containers = await scanInTurns(text, maxDepth, pieceChars, turnChars, BODY_BOUNDS, caller);
  const value = await new Assembly(text, containers, JSON.parse, pieceChars, caller).value(0, text.length);
  if (!hasUnsafeId(value)) return value;
  return new Assembly(text, containers, parseLosslessText, pieceChars, caller).value(0, text.length);
}

/** Members of one list or object, and lists and objects in the whole text. */
interface Bounds {
  readonly members: number;
  readonly containers: number;
}

const UNBOUNDED: Bounds = { members: Infinity, containers: Infinity };

async function scanInTurns(text: string, maxDepth: number, pieceChars: number, turnChars: number, bounds = UNBOUNDED, caller?: string, signal?: AbortSignalLike) {
  const scanning = scan(text, maxDepth, pieceChars, turnChars, bounds);
  let step = scanning.next();
  for (; step.done !== true; step = scanning.next()) await nextTurn(caller, signal);
  return step.value;
}

/** The containers longer than `pieceChars` by their opening bracket; yields every `turnChars`. */
function* scan(
  text: string,
  maxDepth: number,
  pieceChars: number,
  turnChars: number,
  bounds: Bounds,
): Generator<void, Map<number, Container>> {
  const containers = new Map<number, Container>();
  const stack: Container[] = [];
  let inString = false;
  let opened = 0;
  const outsized = (what: string) => new UpstreamBodyError(`The upstream body has ${what}.`, { outsized: true });
  // One index across turns: an escape's skip past a turn's end is kept.
  for (let i = 0, turnEnd = turnChars; i < text.length; i += 1) {
    if (i >= turnEnd) {
      yield;
      turnEnd = i + turnChars;
    }
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (stack.length >= maxDepth) throw new UpstreamBodyError(`The upstream body nests more than ${maxDepth} levels deep.`, { outsized: true });
      if ((opened += 1) > bounds.containers) throw outsized(`more than ${bounds.containers} lists and objects`);
      stack.push({ kind: c === OPEN_BRACE ? 'object' : 'array', start: i, end: -1, commas: [], colons: [] });
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      const frame = stack.pop();
      if (frame === undefined || (frame.kind === 'object') !== (c === CLOSE_BRACE)) throw notJson();
      frame.end = i + 1;
      if (frame.end - frame.start > pieceChars) containers.set(frame.start, frame);
    } else if (c === COMMA) {
      if ((stack.at(-1)?.commas.push(i) ?? 0) >= bounds.members) throw outsized(`a list or object of more than ${bounds.members} members`);
    }
    else if (c === COLON) stack.at(-1)?.colons.push(i);
  }
  if (stack.length > 0 || inString) throw notJson();
  return containers;
}

function notJson(cause?: unknown): UpstreamBodyError {
  return new UpstreamBodyError('The upstream body is not valid JSON.', { cause });
}

// JSON's whitespace is only these four: `\S` would skip other spaces JSON refuses.
const NOT_JSON_SPACE = /[^ \t\n\r]/g;

function firstNonSpace(text: string, from: number, to: number): number {
  NOT_JSON_SPACE.lastIndex = from;
  const found = NOT_JSON_SPACE.exec(text);
  return found === null || found.index >= to ? to : found.index;
}

class Assembly {
  private readonly turns: TurnMeter;

  constructor(
    private readonly text: string,
    private readonly containers: ReadonlyMap<number, Container>,
    private readonly parse: (text: string) => unknown,
    private readonly pieceChars: number,
    caller?: string,
    signal?: AbortSignalLike,
  ) {
    this.turns = new TurnMeter(TURN_CHARS, caller, signal);
  }

  async value(from: number, to: number): Promise<unknown> {
    const container = this.containers.get(firstNonSpace(this.text, from, to));
    if (container === undefined) return this.piece(this.text.slice(from, to));
    if (firstNonSpace(this.text, container.end, to) !== to) throw notJson();
    return this.container(container);
  }

  private async piece(text: string): Promise<unknown> {
    await this.turns.due(text.length);
    try {
      return this.parse(text);
    } catch (error) {
      throw notJson(error);
    }
  }

  /** A child that is a long container alone, the others in groups between the container's brackets. */
  private async container({ kind, start, end, commas, colons }: Container): Promise<unknown> {
    const isObject = kind === 'object';
    const out: unknown[] | Record<string, unknown> = isObject ? {} : [];
    // Like JSON.parse: own properties (a `__proto__` key too), the last of equal keys wins.
    const put = (key: string | undefined, value: unknown) => key === undefined
      ? (out as unknown[]).push(value)
      : Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    // Child i lies between bound i and bound i + 1: the opening bracket, the commas, the closing one.
    const bound = (i: number) => (i === 0 ? start : i <= commas.length ? commas[i - 1]! : end - 1);
    const empty = commas.length === 0 && firstNonSpace(this.text, start + 1, end - 1) === end - 1;
    const children = empty ? 0 : commas.length + 1;
    if (isObject && colons.length !== children) throw notJson();
    let groupFrom = -1;
    let groupTo = -1;
    const flush = async () => {
      if (groupFrom < 0) return;
      const group = await this.piece(this.text[start] + this.text.slice(groupFrom, groupTo) + this.text[end - 1]);
      groupFrom = -1;
      if (isObject) for (const [key, value] of Object.entries(group as object)) put(key, value);
      else for (const value of group as unknown[]) put(undefined, value);
    };
    for (let i = 0; i < children; i += 1) {
      // Many small children are work too, not only the text parsed.
      const turn = this.turns.due(CHILD_WORK);
      if (turn !== undefined) await turn;
      const from = bound(i) + 1;
      const to = bound(i + 1);
      // An empty child is a stray comma.
      if (firstNonSpace(this.text, from, to) === to) throw notJson();
      const valueFrom = isObject ? colons[i]! + 1 : from;
      if (this.containers.has(firstNonSpace(this.text, valueFrom, to))) {
        await flush();
        const key = isObject ? await this.piece(this.text.slice(from, colons[i])) : undefined;
        if (isObject && typeof key !== 'string') throw notJson();
        put(key as string | undefined, await this.value(valueFrom, to));
        continue;
      }
      if (groupFrom >= 0 && to - groupFrom > this.pieceChars) await flush();
      if (groupFrom < 0) groupFrom = from;
      groupTo = to;
    }
    await flush();
    return out;
  }
}
