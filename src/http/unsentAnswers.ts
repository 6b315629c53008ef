import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import { callerDigest, type CallerCredentials } from '../cache/scopeKey';

/** Whose share an answer counts in when its credentials were never accepted (or it had none). */
export const STRANGERS = 'strangers';

/**
 * The bytes of the answers each caller was given that Node has yet to hand to the kernel: a caller
 * that leaves its answers unread on many connections holds its share, not the process's memory.
 * An answer always passes while its caller holds none.
 */
export class UnsentAnswers {
  private readonly held = new Map<string, number>();

  /** `isStranger`: the credential gate's verdict, as the in-flight limits and subscriptions read it. */
  constructor(
    private readonly perCallerBytes: number,
    private readonly isStranger: (credentials: CallerCredentials) => boolean,
  ) {}

  /** `false`: the caller's share is taken; else `bytes` count until `response` is sent or cut (at once
   * when its client left during the operation: `finished` calls back for a stream already closed). */
  hold(credentials: CallerCredentials | undefined, response: ServerResponse, bytes: number): boolean {
    const caller = credentials === undefined || this.isStranger(credentials) ? STRANGERS : callerDigest(credentials);
    const held = this.held.get(caller) ?? 0;
    if (held > 0 && held + bytes > this.perCallerBytes) return false;
    this.held.set(caller, held + bytes);
    finished(response, () => {
      const left = this.held.get(caller)! - bytes;
      if (left > 0) this.held.set(caller, left);
      else this.held.delete(caller);
    });
    return true;
  }
}
