import { GraphQLError, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import type { GatewayConfig } from '../../config/loadConfig';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { jsonByteLength } from '../../observability/logger';
import type { AbortSignalLike } from '../../cache/abort';
import { nextTurn } from '../../upstream/turns';
import type { CallRoom } from '../../upstream/CseApi';
import { classifyFailure } from '../../upstream/errorMapping';
import type { AnswerBounds, AnswerShare } from './answersBeingMade';
import { itemSize, type ItemSize } from './expandedSize';

/** Fields of list items (items × the fields each selects) that may be made and completed in one turn of the
 * event loop: an item's cost is its fields, so a page of jobs with their engines is paced as fairly as tasks. */
const FIELDS_PER_TURN = 10_000;
/** What a list item counts as in an answer, whatever its fields. */
const ITEM_BYTES = 128;
/** What one field error weighs in a turn: graphql-js makes an error object per item (its path, its
 * locations), several times a field's completion. */
const ERROR_FIELDS = 10;

/** Bytes an operation holds before they are shared with its caller's: smaller answers never wait for room
 * (for a slot, as every operation, while all are taken). */
const SHARE_STEP = 64 * 1024;

/** What an ordinary query holds at most (a page or a few of jobs and their answer, its lists few items): it
 * waits for room among such answers only. */
const SMALL_ANSWER_BYTES = 4 * SHARE_STEP;
const SMALL_ANSWER_ITEMS = 256;

/** The bounds of the answers being made at once, from what one operation may send: per caller a quarter
 * (its first large answer goes on past it); all callers' small answers together twice that, two callers'
 * worth (what the manifests' container was sized for: deploy/kubernetes/README.md), and their large ones as
 * much, the first of each going on past it. A slot holds up to a SHARE_STEP uncounted: unless set, as many
 * slots as the bytes bound holds of those, and never fewer than the upstream calls in flight (fewer would
 * leave them idle); a caller half of them. */
export function answerBounds(
  budget: GatewayConfig['limits']['budget'],
  { maxInFlight, maxResponseBytes }: Pick<GatewayConfig['upstream']['resilience'], 'maxInFlight' | 'maxResponseBytes'>,
): AnswerBounds {
  const callerBytes = budget.maxUpstreamBytes / 4;
  const processBytes = 2 * callerBytes;
  const slots = budget.maxConcurrent ?? Math.max(maxInFlight, Math.floor(processBytes / SHARE_STEP));
  const callerSlots = Math.max(1, Math.floor(slots / 2));
  return { callerBytes, processBytes, slots, callerSlots, smallBytes: SMALL_ANSWER_BYTES, answerBytes: maxResponseBytes, slotBytes: SHARE_STEP };
}

/** The list field whose items `paced` makes: the fields each item selects (with its fragments). */
export type ListSelection = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

/** The bounds of one operation: a field past one fails alone as RESPONSE_TOO_LARGE. It paces lists too: both
 * executors complete a synchronous list at once, so past FIELDS_PER_TURN fields other requests get a turn. */
export class OperationBudget {
  private upstreamBytes = 0;
  /** An answer that would bring more upstream bytes than the operation may use was refused unread. */
  private outgrown = false;
  private sent = 0;
  /** Once the answer's bytes are spent, what every later field that needs more fails with. */
  private spent: GraphQLError | undefined;
  /** Once the operation's signal aborted, what every later field fails with. */
  private cut: GraphQLError | undefined;
  /** Fields handed over in the current turn (while no later turn is scheduled). */
  private fieldsThisTurn = 0;
  /** The latest turn scheduled, and the fields it hands over. */
  private turn: Promise<void> | undefined;
  private fieldsOfTurn = 0;
  /** Per list field of the operation (the executors hand every item's field the same nodes). */
  private readonly itemSizes = new WeakMap<readonly FieldNode[], ItemSize>();
  /** JSON made once per source (its text), with its bytes, however many copies the answer holds. */
  private readonly made = new Map<unknown, SizedJson | Promise<SizedJson>>();
  private ended = false;

  /** Items of the lists it made or makes, and as many as the admission expects. */
  private listItems = 0;
  private expectedItems = 0;
  /** Sent bytes not yet counted in `answers`. */
  private unshared = 0;
  /** The operation's wait for room in `answers`, while it waits. */
  private room: Promise<void> | undefined;
  /** What its own waits failed with (for room, or a call's start once cut short): the gateway's, not the upstream's. */
  private ownFailures: WeakSet<object> | undefined;
  /** Its calls of kinds nobody has learned (AnswerSizes), while on their way: each ends as the call does. */
  private learning: Map<string, Promise<void>> | undefined;

  /** `caller`: whose turns the operation's steps take (`callerDigest`), one place per caller (nextTurn).
   * `answers`: its slot among the answers being made, and the caller's share what it holds counts in;
   * without a slot or past the share, its calls and lists wait (until `signal` or `deadline`). */
  constructor(
    private readonly limits: Pick<GatewayConfig['limits']['budget'], 'maxUpstreamBytes' | 'maxListItems'>,
    readonly caller?: string,
    private readonly answers?: AnswerShare,
    private readonly bound?: { readonly signal?: AbortSignalLike; readonly deadline?: number },
  ) {}

  /** Once all bytes are used, a call's answer could not be used; nor could one that brings `bytes` past what
   * is left (an answer refused unread: AnswerOutgrewRoom), and no further call is made, as after one read. */
  beforeCall(bytes = 0): void {
    if (bytes > this.upstreamLeft) this.outgrown = true;
    if (this.outgrown || this.upstreamLeft <= 0) throw this.bytesError();
  }

  /** Bytes of upstream answers the operation may still use. */
  private get upstreamLeft(): number {
    return this.limits.maxUpstreamBytes - this.upstreamBytes;
  }

  /** The answer past the bound fails its field; its bytes stay counted, and held in the caller's share
   * until the operation ends (its loaders keep the pages). */
  spendUpstream(bytes: number): void {
    this.upstreamBytes += bytes;
    if (this.upstreamBytes > this.limits.maxUpstreamBytes) throw this.bytesError();
    this.share(bytes);
  }

  /** Undefined when the operation may go on now (an upstream call, a list); else the one wait of all its
   * calls and lists for room in its caller's share, rejecting with a coded error if the signal or deadline
   * ends it first. Once the operation was answered, nothing of it goes on. */
  whenRoom(): Promise<void> | undefined {
    const answers = this.answers;
    if (answers === undefined) return undefined;
    if (this.ended) return new Promise<void>(() => {});
    if (answers.mayGoOn()) return undefined;
    this.room ??= answers.room(this.bound?.signal, this.bound?.deadline).then(
      () => {
        this.room = undefined;
        return this.ended ? new Promise<void>(() => {}) : undefined;
      },
      (reason: unknown) => {
        this.room = undefined;
        throw this.own(classifyFailure({ thrown: reason }).error);
      },
    );
    return this.room;
  }

  /**
   * An upstream call of `kind` for `items` items (AnswerSizes) may start once `whenRoom()`; it then holds
   * room for its answer until it ends (`end()`: answered and counted, or failed): calls that look for room
   * together would all find it before any answer counts. It holds as much as such answers weigh, at least
   * `atLeast` (what its answer announced before); past a small answer's bytes, its operation is large from
   * then on, and waits as large ones do; never more than the operation may still use. An answer that turns
   * out larger is read only if the room grows to it, and the operation may use it (`fits`). Before anyone
   * learned what they weigh, a SHARE_STEP, and the operation's other calls of the kind wait for it to end:
   * its aliases of one page cannot all go out before one is known to be large.
   */
  callStarts(kind: string, items: number, atLeast = 0): CallRoom | Promise<CallRoom> {
    const signal = this.bound?.signal;
    // A call that waited, its operation cut short meanwhile, does not start; nor once its bytes are used.
    if (signal?.aborted === true) return Promise.reject(this.own(classifyFailure({ thrown: signal.reason }).error));
    const { answers } = this;
    try {
      this.beforeCall();
    } catch (error) {
      // It expects no call now: what it held nothing for no longer keeps it from the small answers' room.
      answers?.expect(0);
      throw error;
    }
    const known = answers?.sizes.expected(kind, items);
    // Room for more than the operation may still use would be held for an answer it could not use.
    const left = Math.max(0, this.upstreamLeft);
    const weighs = known === undefined && atLeast === 0 ? undefined : Math.max(known ?? 0, answers?.sizes.capped(atLeast) ?? atLeast);
    const expected = weighs === undefined ? undefined : Math.min(weighs, left);
    // Its own calls of a kind nobody has learned go one at a time until one is answered.
    const learning = expected === undefined ? this.learning?.get(kind) : undefined;
    if (learning !== undefined) return learning.then(() => this.callStarts(kind, items, atLeast));
    // With what it holds already, past a small answer's bytes: large from now on.
    if (answers !== undefined && expected !== undefined && answers.holds + expected > SMALL_ANSWER_BYTES) answers.large();
    const holding = expected ?? Math.min(SHARE_STEP, left);
    answers?.expect(holding);
    const wait = this.whenRoom();
    if (wait !== undefined) return wait.then(() => this.callStarts(kind, items, atLeast));
    // Shared (a single flight), the answer may be read past what this operation may use: its joiners' is theirs.
    const within = (bytes: number, shared = false) => shared || bytes <= this.upstreamLeft;
    if (answers === undefined) return { fits: within, end: () => {} };
    answers.expect(0);
    const reservation = answers.reserve(holding);
    const fits = (bytes: number, shared?: boolean) => within(bytes, shared) && reservation.growTo(bytes);
    if (expected !== undefined) return { fits, end: reservation.giveBack };
    let learnt = () => {};
    (this.learning ??= new Map()).set(kind, new Promise<void>((resolve) => (learnt = resolve)));
    return {
      fits,
      end: () => {
        reservation.giveBack();
        this.learning?.delete(kind);
        learnt();
      },
    };
  }

  /** An answer of `kind` for `items` items weighed `bytes`: what later calls of the kind hold on their way. */
  learnSize(kind: string, bytes: number, items: number): void {
    this.answers?.sizes.learned(kind, bytes, items);
  }

  /** Upstream text, counted as the answer writes it (escapes too) each time it holds it (aliases). */
  sendText<T>(text: T): T {
    if (typeof text === 'string') this.send(jsonByteLength(text));
    return text;
  }

  /** Whether `error` is what one of its own waits failed with (for room: a slot, or bytes among the answers
   * being made; or a call's start once its signal or deadline came): the gateway's room, not the upstream. */
  failedWaiting(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.ownFailures?.has(error) === true;
  }

  private own<E extends object>(error: E): E {
    (this.ownFailures ??= new WeakSet()).add(error);
    return error;
  }

  /** Bytes of the upstream answers it fetched. */
  get fetchedBytes(): number {
    return this.upstreamBytes;
  }

  /** Upstream text, keys and items the answer holds so far, as counted against the bound. */
  get sentBytes(): number {
    return this.sent;
  }

  /** The admission's estimate of the connection items (and `_entities`) the operation answers at worst: past
   * a small answer's, it counts among the large from its first byte (a batch's operations together). */
  expectItems(items: number): void {
    this.expectedItems += items;
    if (this.expectedItems > SMALL_ANSWER_ITEMS) this.answers?.large();
  }

  /** Aborts when the caller leaves or the operation's time is up. */
  get signal(): AbortSignalLike | undefined {
    return this.bound?.signal;
  }

  /** The answer is made again from the start: the text it held before is not sent. */
  answerAgain(): void {
    this.sent = 0;
    this.spent = undefined;
    this.cut = undefined;
    this.unshared = 0;
    // A wait begun before fails once its share restarts: the new answer waits anew.
    this.room = undefined;
    this.answers?.restart();
    // Its loaders still hold the pages fetched: counted again within its slot.
    this.share(this.upstreamBytes);
  }

  /** `make()`'s JSON (parsed, perhaps in the caller's turns, until the operation's signal aborts) once per
   * `source`; each copy counted as written. */
  sendJson(source: unknown, make: (caller: string | undefined, signal: AbortSignalLike | undefined) => unknown): unknown {
    // Past the bound, or once the operation was cut short, it fails before anything is parsed.
    this.send(0);
    this.throwIfAborted();
    const json = this.made.get(source) ?? sized(make(this.caller, this.bound?.signal));
    this.made.set(source, json);
    if (!(json instanceof Promise)) return this.sendSized(json);
    return json.then(
      (ready) => this.sendSized(ready),
      (error: unknown) => {
        this.throwIfAborted();
        throw error;
      },
    );
  }

  private sendSized({ value, bytes }: SizedJson): unknown {
    this.send(bytes);
    return value;
  }

  /** Each item counts as ITEM_BYTES of the answer, whatever it holds: aliases repeat lists too. */
  sendList(count: number): void {
    const limit = this.limits.maxListItems;
    if (count > limit) throw tooLarge('LIST_ITEMS', limit, `The list has ${count} items, more than the ${limit} one field may answer.`);
    this.send(count * ITEM_BYTES);
  }

  /** The operation was answered. graphql-js 16 goes on completing a branch whose error ended the answer
   * (a null it propagated past its siblings): the lists such a branch still has scheduled are never made. */
  end(): void {
    if (!this.ended) this.answers?.release();
    this.ended = true;
  }

  /** `make()`, a list of `items` items of `selection`, now or in a later turn (after one pass of the event loop).
   * The items' keys count as sent first: aliases of any length, repeated by every item, are answer text too. */
  paced<T>(items: number, selection: ListSelection, make: () => T): T | Promise<T> {
    const perItem = this.sizeOf(selection);
    try {
      this.throwIfAborted();
      this.send(items * perItem.keyBytes);
    } catch (error) {
      return this.failInTurn(error);
    }
    const turn = () => this.inTurn(items * perItem.fields, make);
    this.listItems += items;
    if (this.listItems > SMALL_ANSWER_ITEMS) this.answers?.large();
    // Past the caller's share of answers being made, a list waits until one of them is let go, failing in
    // its turn if the wait ends first.
    const room = this.whenRoom();
    if (room === undefined) return turn();
    return room.then(turn, (error: unknown) => this.failInTurn(error));
  }

  /** `value`, an object of `selection` (one item's worth of its fields), in this turn or a later one: many
   * fields waiting for one value (every job of a page for its engine) continue a turn's worth at a time.
   * Its keys are not counted: a list's items count those of the objects they hold. */
  pacedObject<T>(selection: ListSelection, value: T): T | Promise<T> {
    return this.inTurn(this.sizeOf(selection).fields, () => value);
  }

  /**
   * `error` thrown in this turn or a later one, weighed as a list's fields are. A failure shared by every
   * item of a page (a refused argument under each, one rejected call they all wait for) makes an error
   * per item, all in the turn that call settles, unless each takes its place among the turns.
   */
  failInTurn(error: unknown): never | Promise<never> {
    return this.inTurn(ERROR_FIELDS, () => {
      throw error;
    });
  }

  /** Worked out once per field of the operation: the executors hand every item's field the same nodes. */
  private sizeOf(selection: ListSelection): ItemSize {
    let size = this.itemSizes.get(selection.fieldNodes);
    if (size === undefined) {
      size = itemSize(selection.fieldNodes, selection.fragments);
      this.itemSizes.set(selection.fieldNodes, size);
    }
    return size;
  }

  private inTurn<T>(fields: number, make: () => T): T | Promise<T> {
    if (this.turn === undefined && this.fieldsThisTurn + fields <= FIELDS_PER_TURN) {
      this.fieldsThisTurn += fields;
      return make();
    }
    if (this.turn === undefined || (this.fieldsOfTurn > 0 && this.fieldsOfTurn + fields > FIELDS_PER_TURN)) {
      const next = (this.turn ?? Promise.resolve()).then(() => nextTurn(this.caller));
      this.turn = next;
      this.fieldsOfTurn = 0;
      // Before the lists' continuations: after the last turn, the count restarts from what it hands over.
      void next.then(() => {
        if (this.turn !== next) return;
        this.turn = undefined;
        this.fieldsThisTurn = this.fieldsOfTurn;
      });
    }
    this.fieldsOfTurn += fields;
    // A promise of its own that never settles: nothing holds it, so the branch is collected whole. Once the
    // caller left or the time is up, what is left fails in its turn, so the operation ends soon.
    return this.turn.then(() => {
      if (this.ended) return new Promise<T>(() => {});
      this.throwIfAborted();
      return make();
    });
  }

  /** Once the signal aborted: its coded error, then one already located for every field after it (as `spent`). */
  private throwIfAborted(): void {
    const signal = this.bound?.signal;
    if (signal?.aborted !== true) return;
    if (this.cut !== undefined) throw this.cut;
    const error = classifyFailure({ thrown: signal.reason }).error;
    this.cut = repeatedFailure(error, 'The operation was cut short: the fields after it are null (or the nearest nullable field above them).');
    throw error;
  }

  private send(bytes: number): void {
    const limit = this.limits.maxUpstreamBytes;
    this.sent += bytes;
    if (this.sent <= limit) return this.share(bytes);
    if (this.spent !== undefined) throw this.spent;
    const message = `The operation's answer would hold more than the ${limit} bytes of upstream text and keys one operation may send.`;
    const error = tooLarge('SENT_BYTES', limit, message);
    this.spent = repeatedFailure(error);
    throw error;
  }

  private share(bytes: number): void {
    if (this.answers === undefined || this.ended || (this.unshared += bytes) < SHARE_STEP) return;
    this.answers.grow(this.unshared);
    this.unshared = 0;
  }

  private bytesError(): GatewayError {
    const limit = this.limits.maxUpstreamBytes;
    const message = `The operation needs more than the ${limit} bytes of upstream answers one operation may use.`;
    return tooLarge('UPSTREAM_BYTES', limit, message);
  }
}

type SizedJson = { readonly value: unknown; readonly bytes: number };

const sized = (value: unknown): SizedJson | Promise<SizedJson> =>
  value instanceof Promise ? value.then(sized) : { value, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') };

function tooLarge(reason: string, limit: number, message: string): GatewayError {
  return new GatewayError(ErrorCode.RESPONSE_TOO_LARGE, message, { details: { reason, limit } });
}

/**
 * Past the bound, every text field of every item left would fail: an error each, which graphql-js builds
 * (path, locations) and the answer writes, thousands of them. After the first, they fail with one error,
 * located already (graphql-js then only records it, for each field it nulls): collapseRepeatedFailures
 * answers it once, with how many fields it failed.
 */
const REPEATED = new WeakSet<GraphQLError>();

function repeatedFailure(first: GatewayError, tail = 'The fields after it that needed more are null (or the nearest nullable field above them).'): GraphQLError {
  const message = `${first.message} ${tail}`;
  const error = new GraphQLError(message, { path: [], originalError: first, extensions: first.extensions });
  REPEATED.add(error);
  return error;
}

/** An operation's errors, each repeated failure once, counted in `extensions.fields`; undefined when none repeats. */
export function collapseRepeatedFailures(errors: readonly GraphQLError[]): GraphQLError[] | undefined {
  let counts: Map<GraphQLError, number> | undefined;
  for (const error of errors) {
    if (!REPEATED.has(error)) continue;
    counts ??= new Map();
    counts.set(error, (counts.get(error) ?? 0) + 1);
  }
  if (counts === undefined) return undefined;
  const collapsed: GraphQLError[] = [];
  for (const error of errors) {
    const count = counts.get(error);
    if (count === undefined) collapsed.push(error);
    else if (count > 0) {
      counts.set(error, 0);
      const extensions = { ...error.extensions, fields: count };
      collapsed.push(new GraphQLError(error.message, { originalError: error.originalError ?? undefined, extensions }));
    }
  }
  return collapsed;
}
