import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { hash as cryptoHash } from 'node:crypto';
import type { GatewayContext } from '../graphql/context';
import { collapseRepeatedFailures } from '../graphql/execution/operationBudget';
import { answeredLocations } from '../graphql/execution/operationExecutor';
import { callerDigest, credentialDigest } from '../cache/scopeKey';
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { nextTurn } from '../upstream/turns';
import type { Credentials } from '../upstream/credentials';
import { ConflatingStream, eventKey, JOB_KEY, markPolled, polledAtOf } from './conflatingStream';
import { fitsJson, project, sharedSelection, type View } from './sharedSelection';

export interface GroupRequest {
  /** The SHA-256 of the document's text: groups a selection that cannot be shared. */
  readonly hash: string;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly credentials: Credentials;
  /** The subscriber's client address (addressKey): a group's executions, and the watch it starts, count at
   * the address of the member that started it (see EngineWatch's `address`). */
  readonly address?: string;
  /** The admission's estimate of the connection items an event answers at worst (OperationBudget.expectItems). */
  readonly items?: number;
}

export interface SubscriptionGroupsOptions {
  readonly schema: GraphQLSchema;
  readonly contextFor: (request: Pick<GroupRequest, 'credentials' | 'address'>, beforeCall?: () => void) => GatewayContext;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** A member's result of more JSON than this (SUBSCRIPTION_MAX_BUFFERED_BYTES, which its socket would pass
   * at once) ends its subscription with RESPONSE_TOO_LARGE, before it is made whole. */
  readonly maxResultBytes: number;
}

/** The function that leaves the group, or the one result that refuses the member. */
type Joined = FormattedExecutionResult | (() => void);

interface Member {
  readonly stream: ConflatingStream<FormattedExecutionResult>;
  readonly view: View | undefined;
  readonly viewKey: string;
  /** jobUpdated: never the same result twice (the digest of the last one's text). */
  lastDigest?: string;
}

type Projected = NonNullable<ReturnType<typeof read>>;

/** Same scope and shared selection: one source, one execution per event, one projection per view (Hasura). */
export class SubscriptionGroups {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly options: SubscriptionGroupsOptions) {}

  async join(request: GroupRequest, stream: ConflatingStream<FormattedExecutionResult>): Promise<Joined> {
    const { schema } = this.options;
    // A group can end while a joiner waits for its start: the joiner then starts one of its own.
    for (;;) {
      const shared = sharedSelection(schema, request.document, request.operationName, request.variables);
      // The shared text holds the variables' values.
      const { hash, operationName, variables } = request;
      const what = shared === undefined ? [hash, operationName ?? null, variables ?? null] : [shared.text];
      const scope = credentialDigest(request.credentials);
      const key = cryptoHash('sha256', JSON.stringify([scope, ...what]), 'base64url');
      let group = this.groups.get(key);
      if (group === undefined) {
        const execution = shared === undefined ? request : { ...request, ...shared, operationName: undefined };
        const made: Group = new Group(execution, this.options, () => {
          if (this.groups.get(key) === made) this.groups.delete(key);
        });
        this.groups.set(key, (group = made));
      }
      const member: Member = { stream, view: shared?.view, viewKey: shared?.viewKey ?? '' };
      const joined = await group.join(member);
      if (joined !== undefined) return joined;
    }
  }
}

class Group {
  private readonly members = new Set<Member>();
  private source: AsyncIterator<unknown> | undefined;
  private started: Promise<FormattedExecutionResult | undefined> | undefined;
  /** jobUpdated: a member that joins later gets it at once. */
  private last: FormattedExecutionResult | undefined;
  private ended = false;
  /** Whose turns the group's results are made in (nextTurn). */
  private readonly caller: string;

  constructor(
    private readonly request: GroupRequest,
    private readonly options: SubscriptionGroupsOptions,
    private readonly onEmpty: () => void,
  ) {
    this.caller = callerDigest(request.credentials);
  }

  async join(member: Member): Promise<Joined | undefined> {
    const failed = await (this.started ??= this.start());
    if (failed !== undefined) return read(failed, member, Infinity, false)!.result;
    if (this.ended) return undefined;
    this.members.add(member);
    const [last, watch] = [this.last, watchOf(this.source)];
    // Projected anew: the replayed result carries no poll time (it is no late delivery).
    if (last !== undefined && watch?.replayable() === true) this.deliver(member, JOB_KEY, this.read(last, member, JOB_KEY));
    else if (last !== undefined) watch?.reread(this.source!);
    return () => this.leave(member);
  }

  /** The result that refuses every member when the source cannot be made. */
  private async start(): Promise<FormattedExecutionResult | undefined> {
    const { document, variables: variableValues, operationName } = this.request;
    let contextValue: GatewayContext | undefined;
    try {
      contextValue = this.options.contextFor(this.request);
      const args = { schema: this.options.schema, document, variableValues, operationName, contextValue };
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in source)) return this.format(source);
      this.source = source[Symbol.asyncIterator]();
      void this.run(this.source);
      return undefined;
    } finally {
      // The subscribe's own budget: whatever it took among the answers being made is given back.
      contextValue?.budget.end();
      // A group that never started is not kept: the next identical subscribe makes its own.
      if (this.source === undefined) this.finish(() => {});
    }
  }

  private async run(source: AsyncIterator<unknown>): Promise<void> {
    const { schema, contextFor } = this.options;
    const { document, variables: variableValues, operationName } = this.request;
    const charge = watchOf(source)?.chargeCall;
    try {
      for (;;) {
        const next = await source.next();
        if (next.done === true || this.ended) break;
        // Each group's event in its caller's turn: one poll may reach many groups of one caller.
        await nextTurn(this.caller);
        if (this.ended) break;
        const event = next.value;
        const contextValue = contextFor(this.request, charge);
        contextValue.budget.expectItems(this.request.items ?? 0);
        const args = { schema, document, rootValue: event, contextValue, variableValues, operationName };
        let result: Awaited<ReturnType<typeof execute>>;
        try {
          result = await execute(args);
        } finally {
          // One event's execution: what graphql-js goes on with after its result is made runs no further lists.
          contextValue.budget.end();
        }
        const formatted = this.format(result);
        const key = eventKey(event);
        if (key === JOB_KEY) this.last = formatted;
        await this.deliverAll(formatted, key, polledAtOf(event));
      }
      this.finish((member) => member.stream.end());
    } catch (error) {
      this.finish((member) => member.stream.fail(error));
    }
  }

  /** One view's result at a time, each made in its caller's turn (nextTurn) and let go once handed over:
   * many views cost their members' sockets' room one after another, never all at once. */
  private async deliverAll(formatted: FormattedExecutionResult, key: string, polled: number | undefined): Promise<void> {
    const byView = new Map<string, Member[]>();
    for (const member of this.members) {
      const members = byView.get(member.viewKey);
      if (members === undefined) byView.set(member.viewKey, [member]);
      else members.push(member);
    }
    let first = true;
    for (const members of byView.values()) {
      if (!first) await nextTurn(this.caller);
      first = false;
      // A member that left, or whose socket closed, meanwhile is not made a result.
      const open = members.filter((member) => this.members.has(member) && member.stream.open);
      if (open.length === 0) continue;
      const projected = this.read(formatted, open[0]!, key);
      // The delivery-delay metric reads it from the result each member is handed.
      if (projected !== undefined && polled !== undefined) markPolled(projected.result, polled);
      for (const member of open) this.deliver(member, key, projected);
    }
  }

  private read(result: FormattedExecutionResult, member: Member, key: string): Projected | undefined {
    return read(result, member, this.options.maxResultBytes, key === JOB_KEY);
  }

  /** `undefined`: the result is past maxResultBytes. */
  private deliver(member: Member, key: string, projected: Projected | undefined): void {
    if (projected !== undefined) return deliver(member, key, projected);
    const limit = this.options.maxResultBytes;
    const message = `The subscription's result would hold more than the ${limit} bytes (SUBSCRIPTION_MAX_BUFFERED_BYTES) its socket may hold.`;
    member.stream.fail(new GatewayError(ErrorCode.RESPONSE_TOO_LARGE, message, { details: { reason: 'SENT_BYTES', limit } }));
  }

  private leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size > 0 || this.ended) return;
    this.finish(() => {});
    void this.source?.return?.();
  }

  private finish(each: (member: Member) => void): void {
    this.ended = true;
    this.onEmpty();
    for (const member of [...this.members]) each(member);
  }

  /** As the HTTP executor answers errors: a repeated failure once (collapseRepeatedFailures), few locations. */
  private format(result: ExecutionResult): FormattedExecutionResult {
    if (result.errors === undefined) return result as FormattedExecutionResult;
    const errors = (collapseRepeatedFailures(result.errors) ?? result.errors).map((error) =>
      answeredLocations(this.options.formatError(error.toJSON(), error)),
    );
    return { ...(result as FormattedExecutionResult), errors };
  }
}

const watchOf = (source: unknown) => (source instanceof ConflatingStream ? source.watch : undefined);

function deliver(member: Member, key: string, { result, digest, bytes }: Projected): void {
  if (key === JOB_KEY) {
    if (member.lastDigest === digest) return;
    member.lastDigest = digest;
  }
  member.stream.push(key, result, bytes);
}

/** Always a new object: each carries its own poll time. `undefined` past `maxBytes` of JSON, found before
 * it is written. `digest` (jobUpdated's): what a member keeps of its last result, whose text could be
 * `maxBytes` each. */
function read(result: FormattedExecutionResult, member: Member, maxBytes: number, digest: boolean) {
  const own = member.view === undefined ? (fitsJson(result, maxBytes) ? { ...result } : undefined) : project(result, member.view, maxBytes);
  if (own === undefined) return undefined;
  const text = JSON.stringify(own);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) return undefined;
  return { result: own, digest: digest ? cryptoHash('sha256', text, 'base64url') : undefined, bytes };
}
