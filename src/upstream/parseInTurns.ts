/**
 * Parsing a large upstream body a piece at a time, so that no one turn of the event loop holds it
 * for as long as `JSON.parse` of the whole (or one scan of its text) would.
 */
import { hasUnsafeId, parseLosslessText, UpstreamBodyError } from './parseJson';

/** Containers longer than this (in characters) are parsed child by child; shorter ones whole. */
const PIECE_CHARS = 64 * 1024;
/** Characters scanned or parsed in one turn of the event loop. */
const TURN_CHARS = 256 * 1024;

/** A container longer than {@link PIECE_CHARS}: one past its closing bracket, its top-level commas and colons. */
interface Container {
  readonly kind: 'object' | 'array';
  readonly end: number;
  readonly commas: readonly number[];
  readonly colons: readonly number[];
}

interface Frame {
  readonly kind: 'object' | 'array';
  readonly start: number;
  readonly commas: number[];
  readonly colons: number[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `parseUpstreamBody(text)`, in turns of the event loop: the scan finds the containers longer
 * than `pieceChars`; their children are parsed by `JSON.parse` in groups of at most that size and
 * put together. As in parseUpstreamJson, a value with an id beyond 2^53 is parsed again losslessly.
 * @throws {UpstreamBodyError} when it nests deeper than `maxDepth` or is not JSON
 */
export async function parseUpstreamJsonInTurns(text: string, maxDepth: number, pieceChars = PIECE_CHARS): Promise<unknown> {
  const containers = await scanInTurns(text, maxDepth, pieceChars);
  const value = await new Assembly(text, containers, JSON.parse, pieceChars).value(0, text.length);
  return hasUnsafeId(value) ? new Assembly(text, containers, parseLosslessText, pieceChars).value(0, text.length) : value;
}

/**
 * The one scan of JSON text: the containers longer than `pieceChars`, by the position of their
 * opening bracket, with their top-level commas and colons. Brackets inside strings do not count.
 * Yields after every {@link TURN_CHARS}, for a caller that gives the event loop a turn.
 * @throws {UpstreamBodyError} when it nests deeper than `maxDepth` or its brackets do not match
 */
function* scan(text: string, maxDepth: number, pieceChars: number): Generator<void, Map<number, Container>> {
  const containers = new Map<number, Container>();
  const stack: Frame[] = [];
  let inString = false;
  for (let from = 0; from < text.length; from += TURN_CHARS) {
    if (from > 0) yield;
    const to = Math.min(text.length, from + TURN_CHARS);
    for (let i = from; i < to; i += 1) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i += 1;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (stack.length >= maxDepth) throw new UpstreamBodyError(`The upstream body nests more than ${maxDepth} levels deep.`);
        stack.push({ kind: c === OPEN_BRACE ? 'object' : 'array', start: i, commas: [], colons: [] });
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        const frame = stack.pop();
        if (frame === undefined || (frame.kind === 'object') !== (c === CLOSE_BRACE)) throw notJson();
        if (i + 1 - frame.start > pieceChars) containers.set(frame.start, { kind: frame.kind, end: i + 1, commas: frame.commas, colons: frame.colons });
      } else if (c === COMMA) stack.at(-1)?.commas.push(i);
      else if (c === COLON) stack.at(-1)?.colons.push(i);
    }
  }
  if (stack.length > 0 || inString) throw notJson();
  return containers;
}

/**
 * The scan in one step, for a caller that cannot wait: refuses a text that nests deeper than
 * `maxDepth` before `JSON.parse` spends seconds on it.
 * @throws {UpstreamBodyError} when it nests deeper than `maxDepth` or its brackets do not match
 */
export function checkJsonDepth(text: string, maxDepth: number): void {
  const scanning = scan(text, maxDepth, Number.POSITIVE_INFINITY);
  while (scanning.next().done !== true);
}

async function scanInTurns(text: string, maxDepth: number, pieceChars: number): Promise<Map<number, Container>> {
  const scanning = scan(text, maxDepth, pieceChars);
  for (let step = scanning.next(); ; step = scanning.next()) {
    if (step.done === true) return step.value;
    await nextTurn();
  }
}

function notJson(cause?: unknown): UpstreamBodyError {
  return new UpstreamBodyError('The upstream body is not valid JSON.', { cause });
}

/** Not JSON whitespace (which is only these four: `\S` would skip other spaces JSON refuses). */
const NOT_JSON_SPACE = /[^ \t\n\r]/g;

/** The first position in [from, to) that is not JSON whitespace, or `to`. */
function firstNonSpace(text: string, from: number, to: number): number {
  NOT_JSON_SPACE.lastIndex = from;
  const found = NOT_JSON_SPACE.exec(text);
  return found === null || found.index >= to ? to : found.index;
}

/** One pass putting the value together from its pieces, with one way of parsing a piece. */
class Assembly {
  private work = 0;

  constructor(
    private readonly text: string,
    private readonly containers: ReadonlyMap<number, Container>,
    private readonly parse: (text: string) => unknown,
    private readonly pieceChars: number,
  ) {}

  /** The value of text[from, to): one JSON value, with whitespace around it. */
  async value(from: number, to: number): Promise<unknown> {
    const start = firstNonSpace(this.text, from, to);
    const container = this.containers.get(start);
    if (container === undefined) return this.piece(this.text.slice(from, to));
    if (firstNonSpace(this.text, container.end, to) !== to) throw notJson();
    return container.kind === 'array' ? this.array(start, container) : this.object(start, container);
  }

  private async piece(text: string): Promise<unknown> {
    if (this.work > TURN_CHARS) {
      await nextTurn();
      this.work = 0;
    }
    this.work += text.length;
    try {
      return this.parse(text);
    } catch (error) {
      throw notJson(error);
    }
  }

  /** The children of a container: the text between its brackets, split at its top-level commas. */
  private children(start: number, container: Container): Array<[number, number]> {
    if (container.commas.length === 0 && firstNonSpace(this.text, start + 1, container.end - 1) === container.end - 1) return [];
    const bounds = [start, ...container.commas, container.end - 1];
    const children: Array<[number, number]> = [];
    for (let i = 0; i + 1 < bounds.length; i += 1) {
      const from = bounds[i]! + 1;
      const to = bounds[i + 1]!;
      // An empty child is a stray comma.
      if (firstNonSpace(this.text, from, to) === to) throw notJson();
      children.push([from, to]);
    }
    return children;
  }

  private async array(start: number, container: Container): Promise<unknown[]> {
    const out: unknown[] = [];
    await this.grouped(this.children(start, container), (from) => from, '[', ']', async (group) => {
      for (const item of group as unknown[]) out.push(item);
    }, async (from, to) => {
      out.push(await this.value(from, to));
    });
    return out;
  }

  private async object(start: number, container: Container): Promise<Record<string, unknown>> {
    const members = this.children(start, container);
    if (container.colons.length !== members.length) throw notJson();
    const out: Record<string, unknown> = {};
    // Like JSON.parse: own properties (a `__proto__` key too), the last of equal keys wins.
    const set = (key: string, value: unknown) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    let colon = 0;
    const colonOf = new Map<number, number>(members.map(([from]) => [from, container.colons[colon++]!]));
    await this.grouped(members, (from) => colonOf.get(from)! + 1, '{', '}', async (group) => {
      for (const [key, value] of Object.entries(group as Record<string, unknown>)) set(key, value);
    }, async (from, to) => {
      const key = await this.piece(this.text.slice(from, colonOf.get(from)));
      if (typeof key !== 'string') throw notJson();
      set(key, await this.value(colonOf.get(from)! + 1, to));
    });
    return out;
  }

  /**
   * Children whose value is a container longer than a piece go one by one (`large`); the others
   * are parsed together, as many as fit in a piece, in `open`/`close` (`small`).
   */
  private async grouped(
    children: ReadonlyArray<[number, number]>,
    valueStart: (from: number) => number,
    open: string,
    close: string,
    small: (group: unknown) => Promise<void>,
    large: (from: number, to: number) => Promise<void>,
  ): Promise<void> {
    let groupFrom = -1;
    let groupTo = -1;
    const flush = async () => {
      if (groupFrom < 0) return;
      const text = open + this.text.slice(groupFrom, groupTo) + close;
      groupFrom = -1;
      await small(await this.piece(text));
    };
    for (const [from, to] of children) {
      if (this.containers.has(firstNonSpace(this.text, valueStart(from), to))) {
        await flush();
        await large(from, to);
        continue;
      }
      if (groupFrom >= 0 && to - groupFrom > this.pieceChars) await flush();
      if (groupFrom < 0) groupFrom = from;
      groupTo = to;
    }
    await flush();
  }
}
