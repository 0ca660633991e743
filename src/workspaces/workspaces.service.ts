import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { newUserId, newWorkspaceId } from '../domain/ids.js';
import { issueToken, parseToken, secretMatches } from './tokens.js';
import { type Role, type UserRow, WorkspacesRepository } from './workspaces.repository.js';

const TOKEN_CACHE_MS = 5000;

export interface Caller {
  user: UserRow;
  workspace: string;
  tokenId: string;
}

@Injectable()
export class WorkspacesService {
  private readonly tokenCache = new LRUCache<string, UserRow & { secret_hash: Buffer }>({ max: 100_000, ttl: TOKEN_CACHE_MS });

  constructor(private readonly repo: WorkspacesRepository) {}

  createWorkspace(name: string) {
    return this.repo.insertWorkspace(newWorkspaceId(), name);
  }

  findWorkspace(id: string) {
    return this.repo.findWorkspace(id);
  }

  /** Creates a user and returns it with its token; the token is shown only here. */
  async createUser(workspace: string, input: { name: string; real_name?: string; role: Role; email?: string }) {
    const token = issueToken();
    const user = await this.repo.insertUserWithToken(
      {
        id: newUserId(),
        workspace_id: workspace,
        name: input.name,
        real_name: input.real_name ?? '',
        role: input.role,
        email: input.email,
      },
      token,
    );
    return user && { user, token: token.token };
  }

  /** Whether a user of the workspace has this email (compared case-insensitively). */
  async emailTaken(workspace: string, email: string): Promise<boolean> {
    return this.repo.emailTaken(workspace, email);
  }

  findUser(workspace: string, id: string) {
    return this.repo.findUser(workspace, id);
  }

  listUsers(workspace: string, afterId: string, limit: number) {
    return this.repo.listUsers(workspace, afterId, limit);
  }

  /** The caller a bearer token belongs to, or undefined for any unknown, revoked or malformed token. */
  async authenticate(token: string): Promise<Caller | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const row = await this.tokenRow(parsed.id);
    if (!row || !secretMatches(parsed.secret, row.secret_hash)) return undefined;
    const { secret_hash: _, ...user } = row;
    return { user, workspace: user.workspace_id, tokenId: parsed.id };
  }

  /**
   * Token rows are kept in memory for a few seconds: every API call authenticates, and this is the
   * hot path's second query. The secret is still checked on every call; a revoked token or a
   * deleted user stops working within TOKEN_CACHE_MS.
   */
  private async tokenRow(id: string) {
    const hit = this.tokenCache.get(id);
    if (hit) return hit;
    const row = await this.repo.findByToken(id);
    if (row) this.tokenCache.set(id, row);
    return row;
  }
}
