/**
 * The values the pagination machinery hands to the GraphQL layer. A connection is built once
 * per field; edges carry their position and connection key, and the cursor string is encoded
 * only when a client asks for it (see the edge resolvers).
 */

export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface EdgeModel<T> {
  node: T;
  /** 0-based position of the node in the whole list at the time it was fetched. */
  position: number;
  /** The id the cursor remembers, so a later page can find the node if it has moved. */
  id: string;
  /** The key of the connection (engine, filter, project) the cursor is bound to. */
  connectionKey: string;
}

export interface ConnectionModel<T> {
  edges: EdgeModel<T>[];
  nodes: T[];
  pageInfo: PageInfoModel;
  totalCount: number;
}
