// What each object type's resolvers receive as their parent (codegen `mappers`).
import type { Credentials } from '../upstream/credentials';
import type { CseEngine, CseJob } from '../upstream/types';
import type { ConnectionModel, EdgeModel } from '../pagination/resolveConnection';

export type { CseEngine, CseJob, CseTask, CseTaskExecutorBrief } from '../upstream/types';
export type { PageInfoModel } from '../pagination/resolveConnection';

export type EngineConnectionModel = ConnectionModel<CseEngine>;
export type EngineEdgeModel = EdgeModel<CseEngine>;
export type JobConnectionModel = ConnectionModel<CseJob>;
export type JobEdgeModel = EdgeModel<CseJob>;

export interface JobEventModel {
  readonly kind: 'CREATED' | 'CHANGED';
  readonly job: CseJob;
}

/** `address`: the subscriber's (addressKey), where the polls it starts count while its credentials are a stranger's. */
export interface JobWatches {
  /** The job's state now, then each change; ends after a terminal state, or after `null` for a missing job. */
  jobUpdates(credentials: Credentials, engineId: string, jobId: string, address?: string): AsyncGenerator<CseJob | null, undefined>;
  /** An event each time one of the engine's newest jobs is created or changes. */
  engineJobEvents(credentials: Credentials, engineId: string, address?: string): AsyncGenerator<JobEventModel, undefined>;
}
