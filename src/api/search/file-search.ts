import type { Caller } from '../../workspaces/workspaces.service.js';

/** Slack's traditional paging block of a search section. */
export interface SearchPaging {
  count: number;
  total: number;
  page: number;
  pages: number;
}

/** The `files` section of search.all, in Slack's shape. */
export interface FileSearchResult {
  total: number;
  matches: unknown[];
  paging: SearchPaging;
  pagination?: Record<string, unknown>;
}

/**
 * Where search.all's `files` section comes from: FilesModule provides FilesService under this token
 * (its searchByName). search.all asks it and nothing else about files.
 */
export interface FileSearchProvider {
  searchByName(caller: Caller, query: string, paging: { page: number; count: number }): Promise<FileSearchResult>;
}

export const FILE_SEARCH = Symbol('FILE_SEARCH');
