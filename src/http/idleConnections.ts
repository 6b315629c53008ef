import type { Socket } from 'node:net';

/** A connection kept alive after its answer is closed for a newcomer only once idle this long: a client
 * that has just been answered is the likeliest to ask again on it. */
export const KEPT_ALIVE_GRACE_MS = 1000;

/**
 * The connections of a full table that may be closed for a newcomer: first those that never sent a request
 * (a client about to ask sends at once), oldest first; then those kept alive after an answer, idle longest
 * first, past KEPT_ALIVE_GRACE_MS. A connection with a request under way, or upgraded, is in neither.
 */
export class IdleConnections {
  private readonly silent = new Set<Socket>();
  /** When each became idle, in that order. */
  private readonly kept = new Map<Socket, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  opened(socket: Socket): void {
    this.silent.add(socket);
  }

  /** A request began on it, it was upgraded, or it closed. */
  busy(socket: Socket): void {
    this.silent.delete(socket);
    this.kept.delete(socket);
  }

  answered(socket: Socket): void {
    this.kept.delete(socket);
    this.kept.set(socket, this.now());
  }

  /** The connection to close for a newcomer, taken out of the idle ones; undefined when none may be. */
  take(): Socket | undefined {
    for (const socket of this.silent) return this.taken(socket);
    for (const [socket, since] of this.kept) return this.now() - since >= KEPT_ALIVE_GRACE_MS ? this.taken(socket) : undefined;
    return undefined;
  }

  private taken(socket: Socket): Socket {
    this.busy(socket);
    return socket;
  }
}
