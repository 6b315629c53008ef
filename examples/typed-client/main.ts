import { CombinedGraphQLErrors, ServerError, type ApolloClient } from '@apollo/client';
import { createGatewayClient } from './client';
import { EngineOverview, JobDetails } from './operations';
import { pageEngineJobs } from './pageEngineJobs';

/**
 * Prints one engine's jobs through the gateway. Built and run from the repository root (see
 * README.md):
 *
 *   npx tsc -p examples/typed-client && node dist/examples/typed-client/main.js
 *
 * Settings, all optional, from the environment (read in `readSettings` only):
 * - `GATEWAY_URL`: the gateway's GraphQL endpoint, default `http://localhost:4000/graphql`
 *   (what `npm start` serves).
 * - `CSE_TOKEN`: the caller's token, sent as `X-Auth-Token`; default the embedded simulator's
 *   demo token, which `npm start` prints.
 * - `ENGINE_ID`: the engine; default the one with the most jobs among the first 20 engines.
 * - `PAGE_SIZE`: jobs per request, 1–100, default 50.
 */

/**
 * The embedded simulator's demo token, as `npm start` prints it. Written out rather than imported
 * from the gateway's source: a frontend has no access to that; test/examples checks the two agree.
 */
export const DEMO_TOKEN = 'cse-demo-token-0000000000000001';
export const DEFAULT_GATEWAY_URL = 'http://localhost:4000/graphql';
const DEFAULT_PAGE_SIZE = 50;
/** The engines `ENGINE_ID`'s default is picked from: one page, within the gateway's cost limit. */
const ENGINES_TO_CONSIDER = 20;

export interface Settings {
  readonly url: string;
  readonly token: string;
  readonly engineId: string | undefined;
  readonly pageSize: number;
}

/** Reads and checks the settings; a bad value fails with its name and the value. */
export function readSettings(env: Readonly<Record<string, string | undefined>>): Settings {
  const url = env.GATEWAY_URL || DEFAULT_GATEWAY_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`GATEWAY_URL must be an http(s) URL such as ${DEFAULT_GATEWAY_URL}, got ${JSON.stringify(url)}`);
  }
  const pageSize = env.PAGE_SIZE ? Number(env.PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    throw new Error(`PAGE_SIZE must be an integer from 1 to 100, got ${JSON.stringify(env.PAGE_SIZE)}`);
  }
  return { url, token: env.CSE_TOKEN || DEMO_TOKEN, engineId: env.ENGINE_ID || undefined, pageSize };
}

/**
 * The whole script once the client exists: picks the engine, prints its jobs and the tasks of its
 * newest job. Returns `false` (having said why) when there is no engine to show.
 */
export async function printEngineJobs(client: ApolloClient, settings: Settings, write: (line: string) => void): Promise<boolean> {
  let engineId = settings.engineId;
  let engineName = engineId;
  if (engineId === undefined) {
    // errorPolicy 'none' (Apollo's default, stated so that `data` is typed as present): any
    // error rejects, so there are no partial results to handle here.
    const { data } = await client.query({ query: EngineOverview, variables: { first: ENGINES_TO_CONSIDER }, errorPolicy: 'none' });
    const engines = data.engines.nodes;
    write(`Engines (${engines.length} of ${data.engines.totalCount}):`);
    for (const engine of engines) write(`  ${engine.id}  ${engine.name.padEnd(26)} ${engine.status.padEnd(14)} ${jobCount(engine.jobs.totalCount)}`);
    // The engine with the most jobs; on a tie the newer one (the list is newest first).
    let busiest = engines[0];
    for (const engine of engines) if (engine.jobs.totalCount > busiest!.jobs.totalCount) busiest = engine;
    if (busiest === undefined) {
      write('The project has no engines.');
      return false;
    }
    engineId = busiest.id;
    engineName = busiest.name;
  }

  const result = await pageEngineJobs(client, engineId, { pageSize: settings.pageSize });
  if (result === null) {
    write(`No engine ${engineId} (or the token's project cannot see it).`);
    return false;
  }
  write(`Jobs of ${engineName} (${engineId}), newest first:`);
  for (const job of result.jobs) {
    const duration = job.durationMs === null ? '' : `${(job.durationMs / 1000).toFixed(0)} s`;
    write(`  ${job.id.padStart(6)}  ${job.status.padEnd(9)} ${job.type.padEnd(9)} ${job.startTime ?? '(not started)'}  ${duration}`);
  }
  write(`${result.jobs.length} of ${result.totalCount} jobs in ${result.pages} pages of up to ${settings.pageSize} (${result.fetchMoreCalls} fetchMore calls).`);

  const newest = result.jobs[0];
  if (newest !== undefined) {
    const { data } = await client.query({ query: JobDetails, variables: { engineId, id: newest.id }, errorPolicy: 'none' });
    write(`Tasks of job ${newest.id}:`);
    for (const task of data.job?.tasks ?? []) {
      const output = outputText(task.output);
      write(`  ${task.order}. ${task.name ?? '(unnamed)'}  ${task.status}${output === '' ? '' : `  ${output}`}`);
    }
  }
  return true;
}

const jobCount = (n: number): string => `${n} ${n === 1 ? 'job' : 'jobs'}`;

/** A task's `output`: the JSON scalar, typed `unknown`, so it is narrowed before it is shown. */
function outputText(output: unknown): string {
  if (output === null || output === undefined) return '';
  return typeof output === 'string' ? output : JSON.stringify(output);
}

/** What a frontend would show for a failed operation: the gateway's error codes, or why it was not reached. */
export function describeError(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    return `the gateway answered with errors: ${error.errors.map((e) => `${String(e.extensions?.code ?? 'NO_CODE')}: ${e.message}`).join('; ')}`;
  }
  if (ServerError.is(error)) return `the gateway answered HTTP ${error.statusCode}`;
  if (!(error instanceof Error)) return String(error);
  // fetch reports an unreachable host as "fetch failed", with the reason (ECONNREFUSED …) as its cause.
  const cause: unknown = error.cause;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  return code === undefined ? error.message : `${error.message} (${code})`;
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const client = createGatewayClient({ url: settings.url, token: settings.token });
  try {
    const shown = await printEngineJobs(client, settings, (line) => process.stdout.write(`${line}\n`));
    if (!shown) process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`Could not list the jobs via ${settings.url}: ${describeError(error)}\n`);
    process.exitCode = 1;
  } finally {
    client.stop();
  }
}

if (require.main === module) void main();
