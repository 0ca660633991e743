import type { Projection } from './projection.js';
import { type BlindKeySource, SearchIndexProjection } from './search-index/search-index.projection.js';
import { UnreadProjection } from './unread/unread.projection.js';

/** What projections need beyond the events: the search index's blind-token keys (EKM). */
export interface ProjectionDeps {
  searchKeys: BlindKeySource;
}

/** The names the rebuild command takes, known before an application context exists. */
export const PROJECTION_NAMES = ['unread', 'search-index'] as const;

/** Every projection the projector keeps, by name (the rebuild command takes these names). */
export function allProjections(deps: ProjectionDeps): Projection[] {
  return [new UnreadProjection(), new SearchIndexProjection(deps.searchKeys)];
}

export function findProjection(name: string, deps: ProjectionDeps): Projection | undefined {
  return allProjections(deps).find((p) => p.name === name);
}
