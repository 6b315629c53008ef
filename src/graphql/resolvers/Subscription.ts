import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import type { LiveJobs } from '../../subscriptions/LiveJobs';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import type { GatewayContext } from '../context';
import type { JobEventResolvers, SubscriptionResolvers } from '../generated/resolvers-types';
import type { CseJob, JobEventModel } from '../models';
import { property } from './property';

/**
 * Subscriptions read their events from the live jobs (one poller per engine and credential scope,
 * see subscriptions/LiveJobs); each event is the root value its selection is executed on.
 */
export const Subscription: SubscriptionResolvers = {
  jobUpdated: {
    subscribe: (_root, { engineId, id }, context) => liveOf(context).jobUpdates(context.credentials, assertEngineId(engineId), assertJobId(id)),
    resolve: (job: CseJob | null) => job,
  },
  engineJobEvents: {
    subscribe: (_root, { engineId }, context) => liveOf(context).engineJobEvents(context.credentials, assertEngineId(engineId)),
    resolve: (event: JobEventModel) => event,
  },
};

const own = property<JobEventModel>();

export const JobEvent: JobEventResolvers = {
  kind: own('kind'),
  job: own('job'),
};

/** Only the WebSocket server's contexts have live jobs; over HTTP, subscriptions are refused before this. */
function liveOf(context: GatewayContext): LiveJobs {
  if (context.live === undefined) {
    throw new GatewayError(ErrorCode.OPERATION_NOT_SUPPORTED, 'Subscriptions are served over WebSocket (graphql-transport-ws) at this URL.');
  }
  return context.live;
}
