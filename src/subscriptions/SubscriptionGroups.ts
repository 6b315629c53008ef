import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { createHash } from 'node:crypto';
import type { GatewayContext } from '../graphql/context';
import { credentialDigest } from '../cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import { ConflatingStream } from './conflatingStream';
import { eventKey, JOB_KEY, markPolled, polledAtOf } from './eventKeys';
import { project, sharedSelection, type View } from './sharedSelection';

/** One subscription, as the WebSocket server hands it over. */
export interface GroupRequest {
  /**
   * The group of a request whose selection cannot be shared (see sharedSelection): scope digest,
   * document text, operation name and variables, hashed. Others are grouped by their shared selection.
   */
  readonly key: string;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly credentials: Credentials;
  /** Told of each pending result replaced by a newer one (the member reads slowly). */
  readonly onConflated: () => void;
  /**
   * Told of each change of the bytes this member holds pending (results waiting for a slow
   * reader, by their JSON size): the socket counts them against its bound.
   */
  readonly onPendingBytes?: (delta: number) => void;
}

export interface SubscriptionGroupsOptions {
  readonly schema: GraphQLSchema;
  /** A fresh context: one for a group's source, one per event's execution (its own loaders). */
  readonly contextFor: (credentials: Credentials) => GatewayContext;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Results one member keeps pending at most (engine events: a page of jobs, each kind). */
  readonly maxPendingResults: number;
}

/** What members receive: results formatted once for all of them (errors masked as over HTTP). */
export type SharedResult = FormattedExecutionResult;

/**
 * Identical subscriptions — same credential scope, shared selection (the same fields with the
 * same argument values, whatever their aliases, operation name, fragments, variables or layout:
 * see sharedSelection) — share one group: one source stream from the live jobs, one
 * execution per event, one formatted result, projected once per distinct view (the members' own
 * response keys) and handed to every member. A thousand watchers of one job cost one execution
 * per change, as they cost one poll (Hasura's multiplexed live queries, in spirit).
 *
 * Each member conflates what it has not read yet (one pending result per job and kind); a
 * `jobUpdated` member is never sent the same result twice, and one that joins a running group
 * gets the group's last result at once.
 */
export class SubscriptionGroups {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: SubscriptionGroupsOptions) {}

  /** Groups running now (tests, metrics). */
  get size(): number {
    return this.groups.size;
  }

  /**
   * The member's stream of results, or the one result that ends the subscription at once (the
   * source could not be made: an argument the resolver refused).
   */
  async join(request: GroupRequest): Promise<AsyncGenerator<SharedResult, undefined> | SharedResult> {
    // A group can end while a joiner waits for its start (its job reached a terminal state):
    // the joiner then starts a group of its own.
    for (;;) {
      const shared = sharedSelection(this.options.schema, request.document, request.operationName, request.variables);
      const key = shared === undefined ? request.key : sharedKey(request, shared.text);
      const joined = await this.groupFor(key, shared === undefined ? request : { ...request, document: shared.document, operationName: undefined }).join(request, shared);
      if (joined !== undefined) return joined;
    }
  }

  /** `execution`: what the group runs (the shared document, or the request's own). */
  private groupFor(key: string, execution: GroupRequest): Group {
    let group = this.groups.get(key);
    if (group === undefined) {
      const made: Group = new Group(execution, this.options, () => {
        if (this.groups.get(key) === made) this.groups.delete(key);
      });
      this.groups.set(key, (group = made));
    }
    return group;
  }
}

/** The group of a shareable request: scope and shared selection (which holds the variables' values). */
function sharedKey(request: GroupRequest, text: string): string {
  return createHash('sha256')
    .update(JSON.stringify([credentialDigest(request.credentials), text]))
    .digest('base64url');
}

/** How a member reads the group's result: through its view, or as it is (a request not shared). */
interface Reading {
  readonly view: View | undefined;
  /** Members with the same key get the same projected result, made once per event. */
  readonly key: string;
}

interface Member {
  readonly stream: ConflatingStream<SharedResult>;
  readonly reading: Reading;
  /** The text of the last result it was given (jobUpdated: never the same twice). */
  lastText: string | undefined;
}

/** A result as one reading sees it, with its text (for jobUpdated's comparison) and its size. */
interface Projected {
  readonly result: SharedResult;
  readonly text: string;
  readonly bytes: number;
}

class Group {
  private readonly members = new Set<Member>();
  private source: AsyncIterator<unknown> | undefined;
  private started: Promise<SharedResult | undefined> | undefined;
  /** jobUpdated: the last (shared) result, for members that join later. */
  private last: SharedResult | undefined;
  private ended = false;

  constructor(
    private readonly request: GroupRequest,
    private readonly options: SubscriptionGroupsOptions,
    private readonly onEmpty: () => void,
  ) {}

  /** The member's stream; the result that refuses it; `undefined` when the group has ended meanwhile. */
  async join(
    { onConflated, onPendingBytes }: GroupRequest,
    shared: { readonly view: View; readonly viewKey: string } | undefined,
  ): Promise<AsyncGenerator<SharedResult, undefined> | SharedResult | undefined> {
    const reading: Reading = shared === undefined ? { view: undefined, key: '' } : { view: shared.view, key: shared.viewKey };
    const failed = await (this.started ??= this.start());
    if (failed !== undefined) return read(failed, reading).result;
    if (this.ended) return undefined;
    const member: Member = {
      stream: new ConflatingStream<SharedResult>(this.options.maxPendingResults, onConflated, () => this.leave(member), onPendingBytes),
      reading,
      lastText: undefined,
    };
    this.members.add(member);
    // Projected anew: the replayed result carries no poll time (it would count as a late delivery).
    if (this.last !== undefined) this.deliver(member, JOB_KEY, read(this.last, reading));
    return member.stream;
  }

  /** Makes the source (once per group); the result that refuses every member when it cannot be made. */
  private async start(): Promise<SharedResult | undefined> {
    const { schema, contextFor } = this.options;
    let source: Awaited<ReturnType<typeof createSourceEventStream>>;
    try {
      source = await createSourceEventStream({
        schema,
        document: this.request.document,
        variableValues: this.request.variables,
        operationName: this.request.operationName,
        contextValue: contextFor(this.request.credentials),
      });
    } catch (error) {
      // A group that never started is not kept: the next identical subscribe makes its own.
      this.ended = true;
      this.onEmpty();
      throw error;
    }
    if (!isAsyncIterator(source)) {
      this.ended = true;
      this.onEmpty();
      return this.format(source as ExecutionResult);
    }
    this.source = source;
    void this.run(source);
    return undefined;
  }

  /** Executes each event once and hands the result to every member. */
  private async run(source: AsyncIterator<unknown>): Promise<void> {
    try {
      for (;;) {
        const next = await source.next();
        if (next.done === true || this.ended) break;
        const event = next.value;
        const result = await execute({
          schema: this.options.schema,
          document: this.request.document,
          rootValue: event,
          contextValue: this.options.contextFor(this.request.credentials),
          variableValues: this.request.variables,
          operationName: this.request.operationName,
        });
        const formatted = this.format(result);
        const polled = polledAtOf(event);
        const key = eventKey(event);
        if (key === JOB_KEY) this.last = formatted;
        // One projection per distinct reading, however many members share it.
        const byReading = new Map<string, Projected>();
        for (const member of [...this.members]) {
          let projected = byReading.get(member.reading.key);
          if (projected === undefined) {
            projected = read(formatted, member.reading);
            // The delivery-delay metric reads it from the result each member is handed.
            if (polled !== undefined) markPolled(projected.result, polled);
            byReading.set(member.reading.key, projected);
          }
          this.deliver(member, key, projected);
        }
      }
      this.finish((member) => member.stream.end());
    } catch (error) {
      this.finish((member) => member.stream.fail(error));
    }
  }

  private deliver(member: Member, key: string, { result, text, bytes }: Projected): void {
    if (key === JOB_KEY) {
      if (member.lastText === text) return;
      member.lastText = text;
    }
    member.stream.push(key, result, bytes);
  }

  private leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size > 0 || this.ended) return;
    this.ended = true;
    this.onEmpty();
    // The source's stream closes, and with it the watch's interest (see LiveJobs).
    void this.source?.return?.();
  }

  private finish(each: (member: Member) => void): void {
    this.ended = true;
    this.onEmpty();
    for (const member of [...this.members]) each(member);
  }

  private format(result: ExecutionResult): SharedResult {
    if (result.errors === undefined) return result as SharedResult;
    return {
      ...(result as SharedResult),
      errors: result.errors.map((error: GraphQLError) => this.options.formatError(error.toJSON(), error)),
    };
  }
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterator<unknown>).next === 'function' && Symbol.asyncIterator in value;
}

/** The result as a reading sees it; always a new object (each carries its own poll time). */
function read(result: SharedResult, reading: Reading): Projected {
  const own = reading.view === undefined ? { ...result } : project(result, reading.view);
  const text = JSON.stringify(own);
  return { result: own, text, bytes: Buffer.byteLength(text) };
}
