/** A connection as resolved; an edge's cursor is encoded only when a client asks for it. */

export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface EdgeModel<T> {
  node: T;
  /** 0-based position in the whole list when it was fetched. */
  position: number;
  id: string;
  connectionKey: string;
}

export interface ConnectionModel<T> {
  edges: EdgeModel<T>[];
  nodes: T[];
  pageInfo: PageInfoModel;
  totalCount: number;
}
