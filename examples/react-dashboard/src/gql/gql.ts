/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment JobListItem on Job {\n    engineId\n    id\n    type\n    status\n    startTime\n    durationMs\n  }\n": typeof types.JobListItemFragmentDoc,
    "\n  query EngineOverview($first: Int!) {\n    engines(first: $first) {\n      totalCount\n      nodes {\n        id\n        name\n        status\n        latestJob {\n          ...JobListItem\n        }\n      }\n    }\n  }\n": typeof types.EngineOverviewDocument,
    "\n  query EngineJobsPage($engineId: ID!, $first: Int!, $after: String) {\n    engine(id: $engineId) {\n      id\n      name\n      jobs(first: $first, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            ...JobListItem\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.EngineJobsPageDocument,
    "\n  fragment JobTask on Task {\n    id\n    name\n    type\n    status\n    order\n    startTime\n    endTime\n    timedOut\n  }\n": typeof types.JobTaskFragmentDoc,
    "\n  query JobDetails($engineId: ID!, $id: ID!) {\n    job(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n": typeof types.JobDetailsDocument,
    "\n  subscription EngineJobEvents($engineId: ID!) {\n    engineJobEvents(engineId: $engineId) {\n      kind\n      job {\n        ...JobListItem\n      }\n    }\n  }\n": typeof types.EngineJobEventsDocument,
    "\n  subscription WatchJob($engineId: ID!, $id: ID!) {\n    jobUpdated(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n": typeof types.WatchJobDocument,
};
const documents: Documents = {
    "\n  fragment JobListItem on Job {\n    engineId\n    id\n    type\n    status\n    startTime\n    durationMs\n  }\n": types.JobListItemFragmentDoc,
    "\n  query EngineOverview($first: Int!) {\n    engines(first: $first) {\n      totalCount\n      nodes {\n        id\n        name\n        status\n        latestJob {\n          ...JobListItem\n        }\n      }\n    }\n  }\n": types.EngineOverviewDocument,
    "\n  query EngineJobsPage($engineId: ID!, $first: Int!, $after: String) {\n    engine(id: $engineId) {\n      id\n      name\n      jobs(first: $first, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            ...JobListItem\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.EngineJobsPageDocument,
    "\n  fragment JobTask on Task {\n    id\n    name\n    type\n    status\n    order\n    startTime\n    endTime\n    timedOut\n  }\n": types.JobTaskFragmentDoc,
    "\n  query JobDetails($engineId: ID!, $id: ID!) {\n    job(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n": types.JobDetailsDocument,
    "\n  subscription EngineJobEvents($engineId: ID!) {\n    engineJobEvents(engineId: $engineId) {\n      kind\n      job {\n        ...JobListItem\n      }\n    }\n  }\n": types.EngineJobEventsDocument,
    "\n  subscription WatchJob($engineId: ID!, $id: ID!) {\n    jobUpdated(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n": types.WatchJobDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobListItem on Job {\n    engineId\n    id\n    type\n    status\n    startTime\n    durationMs\n  }\n"): (typeof documents)["\n  fragment JobListItem on Job {\n    engineId\n    id\n    type\n    status\n    startTime\n    durationMs\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EngineOverview($first: Int!) {\n    engines(first: $first) {\n      totalCount\n      nodes {\n        id\n        name\n        status\n        latestJob {\n          ...JobListItem\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EngineOverview($first: Int!) {\n    engines(first: $first) {\n      totalCount\n      nodes {\n        id\n        name\n        status\n        latestJob {\n          ...JobListItem\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EngineJobsPage($engineId: ID!, $first: Int!, $after: String) {\n    engine(id: $engineId) {\n      id\n      name\n      jobs(first: $first, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            ...JobListItem\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EngineJobsPage($engineId: ID!, $first: Int!, $after: String) {\n    engine(id: $engineId) {\n      id\n      name\n      jobs(first: $first, after: $after) {\n        totalCount\n        edges {\n          cursor\n          node {\n            ...JobListItem\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobTask on Task {\n    id\n    name\n    type\n    status\n    order\n    startTime\n    endTime\n    timedOut\n  }\n"): (typeof documents)["\n  fragment JobTask on Task {\n    id\n    name\n    type\n    status\n    order\n    startTime\n    endTime\n    timedOut\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobDetails($engineId: ID!, $id: ID!) {\n    job(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobDetails($engineId: ID!, $id: ID!) {\n    job(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription EngineJobEvents($engineId: ID!) {\n    engineJobEvents(engineId: $engineId) {\n      kind\n      job {\n        ...JobListItem\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription EngineJobEvents($engineId: ID!) {\n    engineJobEvents(engineId: $engineId) {\n      kind\n      job {\n        ...JobListItem\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchJob($engineId: ID!, $id: ID!) {\n    jobUpdated(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription WatchJob($engineId: ID!, $id: ID!) {\n    jobUpdated(engineId: $engineId, id: $id) {\n      ...JobListItem\n      tasks {\n        ...JobTask\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;