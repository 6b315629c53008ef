/** What each object type's resolvers receive as their parent (codegen `mappers`). */
import type { CseEngine, CseJob } from '../upstream/types';
import type { ConnectionModel, EdgeModel } from '../pagination/types';

export type { CseEngine, CseJob, CseTask, CseTaskExecutorBrief } from '../upstream/types';
export type { PageInfoModel } from '../pagination/types';

export type EngineConnectionModel = ConnectionModel<CseEngine>;
export type EngineEdgeModel = EdgeModel<CseEngine>;
export type JobConnectionModel = ConnectionModel<CseJob>;
export type JobEdgeModel = EdgeModel<CseJob>;

/** An event of `engineJobEvents`. */
export interface JobEventModel {
  readonly kind: 'CREATED' | 'CHANGED';
  readonly job: CseJob;
}
