import type { GatewayConfig } from '../../config/loadConfig';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';

/** What one operation may gather and send (`OPERATION_MAX_UPSTREAM_BYTES`, `MAX_LIST_ITEMS`). */
type OperationBudgetLimits = GatewayConfig['limits']['budget'];

/** Items whose lists may be made and completed in one turn of the event loop. */
const ITEMS_PER_TURN = 1000;

/**
 * The bounds of one operation, one object in its context. Upstream answers are counted as they
 * arrive (see CseApi), lists as they are resolved; a field past a bound fails alone as
 * RESPONSE_TOO_LARGE, and null propagation gives the rest their data.
 *
 * It also keeps the event loop responsive: graphql-js and graphql-jit complete a list returned
 * synchronously in one go, everything below it included. Past ITEMS_PER_TURN items, lists are
 * handed over in later turns, so other requests (and `/healthz`) get in between.
 */
export class OperationBudget {
  private upstreamBytes = 0;
  private sentBytes = 0;
  /** Items handed over in the current turn (while no later turn is scheduled). */
  private itemsThisTurn = 0;
  /** The latest turn scheduled, and the items it hands over. */
  private turn: Promise<void> | undefined;
  private itemsOfTurn = 0;

  constructor(private readonly limits: OperationBudgetLimits) {}

  /** Refuses an upstream call once all bytes are used: its answer could not be used. */
  beforeCall(): void {
    if (this.upstreamBytes >= this.limits.maxUpstreamBytes) throw this.bytesError();
  }

  /** Counts an answer; the one past the bound fails its field, and its bytes stay counted. */
  spendUpstream(bytes: number): void {
    this.upstreamBytes += bytes;
    if (this.upstreamBytes > this.limits.maxUpstreamBytes) throw this.bytesError();
  }

  /**
   * Counts a large upstream text (a job's context, a task's log or output) each time the response
   * holds it, against the same bound: aliases and fragments can repeat an answer counted once.
   */
  sendText<T extends string | null>(text: T): T {
    if (text === null) return text;
    this.sentBytes += Buffer.byteLength(text);
    const limit = this.limits.maxUpstreamBytes;
    if (this.sentBytes > limit) {
      const message = `The operation's answer would hold more than the ${limit} bytes of upstream text one operation may send.`;
      throw tooLarge('SENT_BYTES', limit, message);
    }
    return text;
  }

  /** Refuses a list of `count` items past `MAX_LIST_ITEMS`, before it is built. */
  checkList(count: number): void {
    const limit = this.limits.maxListItems;
    if (count > limit) throw tooLarge('LIST_ITEMS', limit, `The list has ${count} items, more than the ${limit} one field may answer.`);
  }

  /**
   * `make()`, a list of `count` items, now or in a later turn once this one has handed over its
   * share. Each turn waits for the one before and one pass of the event loop, so I/O gets in.
   */
  paced<T>(count: number, make: () => T): T | Promise<T> {
    if (this.turn === undefined && this.itemsThisTurn + count <= ITEMS_PER_TURN) {
      this.itemsThisTurn += count;
      return make();
    }
    if (this.turn === undefined || (this.itemsOfTurn > 0 && this.itemsOfTurn + count > ITEMS_PER_TURN)) {
      const next = (this.turn ?? Promise.resolve()).then(nextTurn);
      this.turn = next;
      this.itemsOfTurn = 0;
      // Registered before the lists' own continuations: once the last turn has come, the count
      // starts again from what it hands over.
      void next.then(() => {
        if (this.turn !== next) return;
        this.turn = undefined;
        this.itemsThisTurn = this.itemsOfTurn;
      });
    }
    this.itemsOfTurn += count;
    return this.turn.then(make);
  }

  private bytesError(): GatewayError {
    const limit = this.limits.maxUpstreamBytes;
    const message = `The operation needs more than the ${limit} bytes of upstream answers one operation may use.`;
    return tooLarge('UPSTREAM_BYTES', limit, message);
  }
}

function tooLarge(reason: string, limit: number, message: string): GatewayError {
  return new GatewayError(ErrorCode.RESPONSE_TOO_LARGE, message, { details: { reason, limit } });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
