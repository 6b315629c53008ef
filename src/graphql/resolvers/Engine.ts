import type { EngineResolvers } from '../generated/resolvers-types';
import { mapEngineStatus } from '../../mapping/enums';
import { emptyToNull } from '../../mapping/job';
import { epochMsOrNull } from '../../mapping/time';
import { engineKeyOf, entityCopy } from '../federation/referenceKeys';
import { jobConnection, jobConnectionOnce } from './connections';
import { sentText } from './property';
import type { CseEngine } from '../models';

const sent = sentText<CseEngine>();

export const Engine: EngineResolvers = {
  __resolveReference: async (reference, { references }) => entityCopy(await references.engine.load(engineKeyOf(reference))),
  id: sent('id'),
  // `name` is documented as always present; an upstream that leaves it out gets the id shown.
  name: (engine, _args, { budget }) => budget.sendText(engine.name ?? engine.id),
  description: (engine, _args, { budget }) => budget.sendText(emptyToNull(engine.description)),
  type: sent('type'),
  status: (engine, _args, { reportUnknown }) => mapEngineStatus(engine.status, reportUnknown),
  flavor: sent('flavor'),
  version: sent('version'),
  latestVersion: sent('latestVersion'),
  authType: sent('authType'),
  createUser: sent('createUser'),
  createTime: (engine) => epochMsOrNull(engine.createTime),
  enterpriseProjectId: sent('enterpriseProjectId'),
  // A failure shared by the engines of a page (one refused call, refused arguments) fails each in its turn.
  latestJob: (engine, _args, { loaders, budget }) => {
    const id = engine.latestJobId;
    if (id === undefined || id === null || id === '') return null;
    return loaders.job.load({ engineId: engine.id, jobId: String(id) }).catch((error: unknown) => budget.failInTurn(error));
  },
  // `Query.engine` may have resolved this connection already (see there): then it is reused.
  jobs: (engine, args, context) =>
    (context.jobConnections.size === 0 ? jobConnection(engine.id, args, context) : jobConnectionOnce(engine.id, args, context)).catch(
      (error: unknown) => context.budget.failInTurn(error),
    ),
};
