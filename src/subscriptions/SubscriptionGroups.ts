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
import type { ConflatingStream } from './conflatingStream';
import { eventKey, JOB_KEY, markPolled, polledAtOf } from './eventKeys';
import { project, sharedSelection, type SharedSelection, type View } from './sharedSelection';

/** One subscription, as the WebSocket server hands it over. */
export interface GroupRequest {
  /** The SHA-256 of the document's text: groups a selection that cannot be shared. */
  readonly hash: string;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly credentials: Credentials;
}

export interface SubscriptionGroupsOptions {
  readonly schema: GraphQLSchema;
  /** A fresh context: one for a group's source, one per event's execution (its own loaders). */
  readonly contextFor: (credentials: Credentials) => GatewayContext;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/**
 * Identical subscriptions (same credential scope and shared selection, see sharedSelection) share
 * one group: one source stream from the watches, one execution per event, one formatted result,
 * projected once per distinct view (the members' own response keys) and handed to every member,
 * as Hasura multiplexes live queries.
 *
 * Each member conflates what it has not read yet (one pending result per job and kind); a
 * `jobUpdated` member is never sent the same result twice, and one that joins a running group
 * gets the group's last result at once.
 */
export class SubscriptionGroups {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: SubscriptionGroupsOptions) {}

  /** Groups running now. */
  get size(): number {
    return this.groups.size;
  }

  /** Joins the member whose results (formatted once for all members) go to `stream`. */
  async join(request: GroupRequest, stream: Results): Promise<Joined> {
    // A group can end while a joiner waits for its start: the joiner then starts one of its own.
    for (;;) {
      const shared = sharedSelection(this.options.schema, request.document, request.operationName, request.variables);
      const execution = shared === undefined ? request : { ...request, document: shared.document, operationName: undefined };
      const joined = await this.groupFor(groupKey(request, shared), execution).join(stream, shared);
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

/** The scope, and the shared selection's text (which holds the variables' values), or else the request's own. */
function groupKey(request: GroupRequest, shared: SharedSelection | undefined): string {
  const { hash, operationName, variables } = request;
  const what = shared === undefined ? [hash, operationName ?? null, variables ?? null] : [shared.text];
  return createHash('sha256')
    .update(JSON.stringify([credentialDigest(request.credentials), ...what]))
    .digest('base64url');
}

/** How a member reads the group's result: through its view, or as it is (a request not shared). */
interface Reading {
  readonly view: View | undefined;
  /** Members with the same key get the same projected result, made once per event. */
  readonly key: string;
}

type Results = ConflatingStream<FormattedExecutionResult>;

/** The function that leaves the group, or the one result that refuses the member. */
type Joined = FormattedExecutionResult | (() => void);

interface Member {
  readonly stream: Results;
  readonly reading: Reading;
  /** The text of the last result it was given (jobUpdated: never the same twice). */
  lastText: string | undefined;
}

/** A result as one reading sees it, with its text (for jobUpdated's comparison) and its size. */
interface Projected {
  readonly result: FormattedExecutionResult;
  readonly text: string;
  readonly bytes: number;
}

class Group {
  private readonly members = new Set<Member>();
  private source: AsyncIterator<unknown> | undefined;
  private started: Promise<FormattedExecutionResult | undefined> | undefined;
  /** jobUpdated: the last (shared) result, for members that join later. */
  private last: FormattedExecutionResult | undefined;
  private ended = false;

  constructor(
    private readonly request: GroupRequest,
    private readonly options: SubscriptionGroupsOptions,
    private readonly onEmpty: () => void,
  ) {}

  /** The leave; the result that refuses the member; `undefined` when the group has ended meanwhile. */
  async join(stream: Results, shared: SharedSelection | undefined): Promise<Joined | undefined> {
    const reading: Reading = shared === undefined ? { view: undefined, key: '' } : { view: shared.view, key: shared.viewKey };
    const failed = await (this.started ??= this.start());
    if (failed !== undefined) return read(failed, reading).result;
    if (this.ended) return undefined;
    const member: Member = { stream, reading, lastText: undefined };
    this.members.add(member);
    // Projected anew: the replayed result carries no poll time (it is no late delivery).
    if (this.last !== undefined) this.deliver(member, JOB_KEY, read(this.last, reading));
    return () => this.leave(member);
  }

  /** Makes the source (once per group); the result that refuses every member when it cannot be made. */
  private async start(): Promise<FormattedExecutionResult | undefined> {
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
    if (!this.members.delete(member) || this.members.size > 0 || this.ended) return;
    this.ended = true;
    this.onEmpty();
    // The source's stream closes, and with it the watch's interest.
    void this.source?.return?.();
  }

  private finish(each: (member: Member) => void): void {
    this.ended = true;
    this.onEmpty();
    for (const member of [...this.members]) each(member);
  }

  private format(result: ExecutionResult): FormattedExecutionResult {
    if (result.errors === undefined) return result as FormattedExecutionResult;
    return {
      ...(result as FormattedExecutionResult),
      errors: result.errors.map((error: GraphQLError) => this.options.formatError(error.toJSON(), error)),
    };
  }
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterator<unknown>).next === 'function' && Symbol.asyncIterator in value;
}

/** The result as a reading sees it; always a new object (each carries its own poll time). */
function read(result: FormattedExecutionResult, reading: Reading): Projected {
  const own = reading.view === undefined ? { ...result } : project(result, reading.view);
  const text = JSON.stringify(own);
  return { result: own, text, bytes: Buffer.byteLength(text) };
}
