import { GraphQLError } from 'graphql';

/**
 * graphql-js 16 leaves unhandled the rejections of a list's other items when one item fails at once
 * (graphql/graphql-js#4643, fixed in 17): errors located in a branch no answer holds any more, since
 * the null the first one propagated ended it. Anything else is a defect, and ends the process as Node would.
 */
export function isAbandonedBranchError(reason: unknown): boolean {
  return reason instanceof GraphQLError && reason.path !== undefined;
}

/** For the process serving operations: an abandoned branch's error must not end it; `onIgnored` counts it. */
export function ignoreAbandonedBranches(onIgnored: () => void): void {
  process.on('unhandledRejection', (reason) => {
    if (!isAbandonedBranchError(reason)) throw reason;
    onIgnored();
  });
}
