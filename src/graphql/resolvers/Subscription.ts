import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import type { GatewayContext } from '../context';
import type { JobEventResolvers, SubscriptionResolvers } from '../generated/resolvers-types';
import type { CseJob, JobEventModel, JobWatches } from '../models';
import { property } from './property';

export const Subscription: SubscriptionResolvers = {
  jobUpdated: {
    subscribe: (_root, { engineId, id }, context) =>
      watchesOf(context).jobUpdates(context.credentials, assertEngineId(engineId), assertJobId(id), context.address),
    resolve: (job: CseJob | null) => job,
  },
  engineJobEvents: {
    subscribe: (_root, { engineId }, context) => watchesOf(context).engineJobEvents(context.credentials, assertEngineId(engineId), context.address),
    resolve: (event: JobEventModel) => event,
  },
};

const own = property<JobEventModel>();

export const JobEvent: JobEventResolvers = { kind: own('kind'), job: own('job') };

function watchesOf(context: GatewayContext): JobWatches {
  if (context.watches === undefined) {
    throw new GatewayError(ErrorCode.OPERATION_NOT_SUPPORTED, 'Subscriptions are served over WebSocket (graphql-transport-ws) at this URL.');
  }
  return context.watches;
}
