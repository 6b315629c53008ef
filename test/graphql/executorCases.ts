import { getIntrospectionQuery } from 'graphql';
import { SEED } from '@cse-jobs-gateway/simulator';
import type { Fault } from '@cse-jobs-gateway/simulator';
import type { GqlResponse, Harness } from '../support/harness';

/**
 * Operations the adaptive executor must answer exactly as graphql-js does (see
 * adaptiveExecutor.test.ts): each touches something a compiled plan could get wrong.
 */
/** The drift engine's task id of 2^53 + 1 (see the simulator's seed). */
export const UNSAFE_TASK_ID = '9007199254740993';
const JOB_FIELDS = `id engineId type description status scheduling createUser startTime endTime durationMs context
  tasks { id jobId type assigned name engineName order status startTime endTime createTime updateTime timedOut log output }`;
const ENGINE_FIELDS = `id name description type status flavor version latestVersion authType createUser createTime enterpriseProjectId`;

export interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  faults?: Fault[];
  /** Variables that do not coerce: admission refuses them, before any executor. */
  refusedBeforeExecution?: true;
}

export const cases: Case[] = [
  { name: 'every field of the drift engine: unknown enums, phases, a task id beyond 2^53', query: `{ engine(id: "${SEED.engines.drift}") { ${ENGINE_FIELDS} latestJob { ${JOB_FIELDS} } jobs(first: 10) { totalCount nodes { ${JOB_FIELDS} engine { id } } } } }` },
  { name: 'a page with cursors, then the page after it', query: `query P($id: ID!, $after: String) { engine(id: $id) { jobs(first: 20, after: $after) { edges { cursor node { id status startTime tasks { id name status } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }`, variables: { id: SEED.engines.big } },
  { name: 'backwards paging with last', query: `{ engine(id: "${SEED.engines.big}") { jobs(last: 7) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage } } } }` },
  { name: 'the dashboard', query: `{ engines(first: 7) { totalCount pageInfo { hasNextPage endCursor } nodes { id name status latestJob { id status } jobs(first: 5) { nodes { id status type } } } } }` },
  { name: 'fragments, inline fragments, aliases, __typename, @skip and @include', query: `query Q($withTasks: Boolean!, $skipName: Boolean!) { a: engine(id: "${SEED.engines.single}") { ...E } b: engine(id: "${SEED.engines.onePage}") { __typename ... on Engine { id name @skip(if: $skipName) } } } fragment E on Engine { __typename id name @skip(if: $skipName) latestJob { __typename id tasks @include(if: $withTasks) { __typename id order } } }`, variables: { withTasks: true, skipName: false } },
  { name: 'a job by id, with the unsafe task id', query: `query J($e: ID!, $j: ID!) { job(engineId: $e, id: $j) { ${JOB_FIELDS} } }`, variables: { e: SEED.engines.drift, j: 'placeholder' } },
  { name: 'an engine that does not exist', query: `{ engine(id: "${SEED.engines.gone}") { id } other: engine(id: "${SEED.engines.single}") { id } }` },
  { name: 'a missing required variable', query: `query M($id: ID!) { engine(id: $id) { id } }`, variables: {}, refusedBeforeExecution: true },
  { name: 'a variable of the wrong type', query: `query W($n: Int) { engines(first: $n) { totalCount } }`, variables: { n: 'seven' }, refusedBeforeExecution: true },
  { name: 'a bad argument value', query: `{ engines(first: -1) { totalCount } }` },
  { name: 'a cursor that is not ours', query: `{ engine(id: "${SEED.engines.big}") { jobs(first: 3, after: "not-a-cursor") { totalCount } } }` },
  { name: 'a filter on time', query: `{ engine(id: "${SEED.engines.big}") { jobs(first: 5, filter: { from: "2020-01-01T00:00:00.000Z" }) { totalCount nodes { id startTime } } } }` },
  {
    name: 'an upstream 500 on one field: partial data',
    query: `{ a: engine(id: "${SEED.engines.big}") { id name } b: engine(id: "${SEED.engines.single}") { id name } }`,
    faults: [{ route: 'getEngine', engineId: SEED.engines.big, status: 500, dialect: 'cse', errorCode: 'SVCSTG.00300500' }],
  },
  {
    name: 'a failure inside a non-null list: null propagates to the nullable parent',
    query: `{ engines(first: 7) { nodes { id jobs(first: 2) { nodes { id } } } } one: engine(id: "${SEED.engines.single}") { id } }`,
    faults: [{ route: 'listJobs', engineId: SEED.engines.big, status: 403, dialect: 'code_message', errorCode: 'CSE.403' }],
  },
  {
    name: 'a value the String serializer refuses: masked, with its path',
    query: `{ engine(id: "${SEED.engines.big}") { id version } }`,
    faults: [{ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { id: SEED.engines.big, name: 'x', version: { secret: 'internal detail' } } }],
  },
  { name: 'federation: _service', query: `{ _service { sdl } }` },
  {
    name: 'federation: _entities of both key shapes, one unknown',
    query: `query R($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Engine { id name } ... on Job { id engineId status } } }`,
    variables: { r: [{ __typename: 'Engine', id: SEED.engines.big }, { __typename: 'Engine', id: SEED.engines.gone }, { __typename: 'Job', engineId: SEED.engines.drift, id: 'placeholder' }] },
  },
  { name: 'introspection', query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }) },
];

/** A job id of the drift engine, and the cursor of item 14 of the big engine: read once from the simulator. */
export async function fillPlaceholders(c: Case, interpreted: Harness): Promise<Case> {
  if (c.variables === undefined) return c;
  const json = JSON.stringify(c.variables);
  if (!json.includes('placeholder') && c.name !== 'a page with cursors, then the page after it') return c;
  const job = await interpreted.gql(`{ engine(id: "${SEED.engines.drift}") { jobs(first: 50) { nodes { id tasks { id } } } } }`);
  const nodes = job.body.data.engine.jobs.nodes as { id: string; tasks: { id: string }[] }[];
  const withUnsafe = nodes.find((n) => n.tasks.some((t) => t.id === UNSAFE_TASK_ID)) ?? nodes[0]!;
  let variables = JSON.parse(json.replaceAll('placeholder', withUnsafe.id)) as Record<string, unknown>;
  if (c.name === 'a page with cursors, then the page after it') {
    const first = await interpreted.gql(c.query, c.variables);
    variables = { ...variables, after: first.body.data.engine.jobs.edges[14].cursor };
  }
  return { ...c, variables };
}

/** What may differ between two runs by design. */
export function comparable(response: GqlResponse<unknown>) {
  const text = response.text
    .replace(/"correlationId":"[^"]+"/g, '"correlationId":"…"')
    .replace(/"requestId":"[^"]+"/g, '"requestId":"…"');
  return { status: response.status, body: JSON.parse(text) as unknown, cacheControl: response.headers['cache-control'] };
}

