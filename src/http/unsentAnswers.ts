import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import { callerDigest, type CallerCredentials } from '../cache/scopeKey';
import { CallerShares, STRANGERS } from '../cache/callerShares';

/**
 * The bytes of the answers each caller was given that Node has yet to hand to the kernel: a caller
 * that leaves its answers unread on many connections holds its share, not the process's memory.
 * An answer always passes while its caller holds none.
 */
export class UnsentAnswers {
  private readonly shares: CallerShares;

  /** `isStranger`: the credential gate's verdict, as the in-flight limits and subscriptions read it. */
  constructor(
    perCallerBytes: number,
    private readonly isStranger: (credentials: CallerCredentials) => boolean,
  ) {
    this.shares = new CallerShares(perCallerBytes);
  }

  /** `false`: the caller's share is taken; else `bytes` count until `response` is sent or cut (at once
   * when its client left during the operation: `finished` calls back for a stream already closed). */
  hold(credentials: CallerCredentials | undefined, response: ServerResponse, bytes: number): boolean {
    const caller = credentials === undefined || this.isStranger(credentials) ? STRANGERS : callerDigest(credentials);
    const held = this.shares.held(caller);
    if (held > 0 && held + bytes > this.shares.limit) return false;
    this.shares.add(caller, bytes);
    finished(response, () => this.shares.add(caller, -bytes));
    return true;
  }
}
