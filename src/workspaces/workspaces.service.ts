import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CONFIG, type Config } from '../config/config.js';
import { newUserId, newWorkspaceId } from '../domain/ids.js';
import { type CredentialKind, issueToken, parseToken, secretMatches } from './tokens.js';
import { hashSigninCode, newSigninCode } from './web-sessions.js';
import { type Role, type TokenRow, type UserRow, WorkspacesRepository } from './workspaces.repository.js';

const TOKEN_CACHE_MS = 5000;

export interface Caller {
  user: UserRow;
  workspace: string;
  tokenId: string;
  /** An API token or a web session (which expires). */
  kind: CredentialKind;
  expiresAt: Date | null;
}

/** Why a credential stopped working: the `reason` of the socket's `revoked` event. */
export type RevokeReason = 'token_revoked' | 'signed_out' | 'user_deactivated' | 'session_expired';

/** Credentials of `user` that were just revoked: every node forgets them and drops their sockets. */
export interface Revocation {
  user: string;
  tokens: string[];
  reason: RevokeReason;
}

@Injectable()
export class WorkspacesService {
  private readonly tokenCache = new LRUCache<string, TokenRow>({ max: 100_000, ttl: TOKEN_CACHE_MS });
  /**
   * Token ids revoked recently, heard from this node or the bus. A database read that started before
   * the revocation must not put the row back into the cache; after twice the cache's lifetime the
   * database alone answers (the row is revoked there).
   */
  private readonly revoked = new LRUCache<string, true>({ max: 100_000, ttl: 2 * TOKEN_CACHE_MS });
  /**
   * Reads of a token row under way, shared by the callers that missed the cache meanwhile: when an
   * entry expires under load, or a thousand sockets of one user reconnect at once, every one of them
   * would otherwise send its own.
   */
  private readonly tokenLoads = new Map<string, Promise<TokenRow | undefined>>();
  private readonly revocationListeners: ((revocation: Revocation) => Promise<void>)[] = [];

  constructor(
    private readonly repo: WorkspacesRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

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

  /**
   * The caller a credential belongs to, or undefined for any unknown, revoked, expired or malformed
   * one. `kind` is how it was presented: API tokens as Bearer, web sessions only through the cookie.
   */
  async authenticate(token: string, kind: CredentialKind = 'api'): Promise<Caller | undefined> {
    const parsed = presented(token, kind);
    return parsed && callerOf(parsed, await this.tokenRow(parsed.id));
  }

  /**
   * authenticate's caller without a promise when the token's row is cached (every call of a busy
   * token but one every TOKEN_CACHE_MS); undefined otherwise, refusals included: authenticate decides those.
   */
  cachedCaller(token: string, kind: CredentialKind = 'api'): Caller | undefined {
    const parsed = presented(token, kind);
    if (!parsed || this.revoked.has(parsed.id)) return undefined;
    const row = this.tokenCache.get(parsed.id);
    return row && callerOf(parsed, row);
  }

  /**
   * Why a caller authenticated earlier (a socket's handshake) may no longer act, or undefined while
   * it still may. Cheap enough for every socket command: the revoked set, then the token cache
   * (emptied of revoked tokens on every node through the bus), the database on a miss.
   */
  async revokedReason(caller: Caller): Promise<RevokeReason | undefined> {
    if (this.revoked.has(caller.tokenId)) return 'token_revoked';
    if (caller.expiresAt && caller.expiresAt.getTime() <= Date.now()) return 'session_expired';
    const row = await this.tokenRow(caller.tokenId);
    if (!row || row.id !== caller.user.id) return 'token_revoked';
    return expired(row) ? 'session_expired' : undefined;
  }

  /** True when this node has heard that the token was revoked (checked again where a socket opens). */
  wasRevoked(tokenId: string): boolean {
    return this.revoked.has(tokenId);
  }

  /** Drops revoked credentials from this node's cache; called for every revocation heard on the bus. */
  forget(tokens: string[]): void {
    for (const id of tokens) {
      this.revoked.set(id, true);
      this.tokenCache.delete(id);
    }
  }

  /**
   * Hears every revocation made on this node; realtime relays it on the bus to every node's sockets
   * and caches, and the admin request answers once it has been sent.
   */
  onRevoked(listener: (revocation: Revocation) => Promise<void>): void {
    this.revocationListeners.push(listener);
  }

  /** An additional API token for the user (shown only here); undefined for an unknown or deactivated user. */
  async issueApiToken(workspace: string, user: string) {
    const token = issueToken('api');
    const row = await this.repo.insertToken(workspace, user, { ...token, kind: 'api' });
    return row && { ...row, token: token.token };
  }

  listCredentials(user: string) {
    return this.repo.listCredentials(user);
  }

  /** Revokes one token or session of the user; undefined when the user holds no such credential. */
  async revokeCredential(user: string, id: string, reason: RevokeReason = 'token_revoked') {
    const row = await this.repo.revokeCredential(user, id);
    if (row) await this.revokedNow({ user, tokens: [row.id], reason });
    return row;
  }

  /** Deactivates the user: `deleted` in users.info, every credential and unused sign-in link revoked. */
  async deactivateUser(workspace: string, user: string) {
    const result = await this.repo.deactivateUser(workspace, user);
    if (result) await this.revokedNow({ user, tokens: result.revoked, reason: 'user_deactivated' });
    return result;
  }

  reactivateUser(workspace: string, user: string) {
    return this.repo.reactivateUser(workspace, user);
  }

  /** A single-use sign-in code for the user, valid SIGNIN_LINK_TTL_MS; undefined for an unknown or deactivated user. */
  async createSigninCode(workspace: string, user: string): Promise<{ code: string; expiresAt: Date } | undefined> {
    const { code, hash } = newSigninCode();
    const expiresAt = await this.repo.insertSigninCode(workspace, user, hash, this.config.SIGNIN_LINK_TTL_MS);
    return expiresAt && { code, expiresAt };
  }

  /** Spends a sign-in code for a new web session (its credential is the cookie value); undefined for a bad code. */
  async signIn(code: string) {
    const session = issueToken('session');
    const redeemed = await this.repo.redeemSigninCode(hashSigninCode(code), { ...session, ttlMs: this.config.SESSION_TTL_MS });
    return redeemed && { ...redeemed, session: session.token };
  }

  /** Announces credentials revoked elsewhere (an app's tokens): every node forgets them and drops their sockets. */
  async revokedNow(revocation: Revocation): Promise<void> {
    this.forget(revocation.tokens);
    await Promise.all(this.revocationListeners.map((listener) => listener(revocation)));
  }

  /**
   * Token rows are kept in memory for a few seconds: every API call authenticates, and this is the
   * hot path's second query. The secret is still checked on every call; a revoked token leaves every
   * node's cache at once through the bus (forget), and the cache never outlives TOKEN_CACHE_MS.
   */
  private async tokenRow(id: string) {
    if (this.revoked.has(id)) return undefined;
    const hit = this.tokenCache.get(id);
    if (hit) return hit;
    let load = this.tokenLoads.get(id);
    if (!load) {
      load = this.repo.findByToken(id).finally(() => this.tokenLoads.delete(id));
      this.tokenLoads.set(id, load);
    }
    const row = await load;
    if (row && !this.revoked.has(id)) this.tokenCache.set(id, row);
    return this.revoked.has(id) ? undefined : row;
  }
}

type ParsedToken = NonNullable<ReturnType<typeof parseToken>>;

/** The token, parsed, when it is presented as its kind may be; undefined for any other. */
function presented(token: string, kind: CredentialKind): ParsedToken | undefined {
  const parsed = parseToken(token);
  // A bot token is presented where a user's API token is (Bearer), and acts as its bot user.
  const accepted = kind === 'api' ? parsed?.kind === 'api' || parsed?.kind === 'bot' : parsed?.kind === kind;
  return accepted ? parsed : undefined;
}

/** The caller of a token and its row; undefined unless the row is the token's (kind and secret) and it has not expired. */
function callerOf(parsed: ParsedToken, row: TokenRow | undefined): Caller | undefined {
  if (!row || row.kind !== parsed.kind || !secretMatches(parsed.secret, row.secret_hash) || expired(row)) return undefined;
  const { secret_hash: _, kind: __, expires_at, ...user } = row;
  return { user, workspace: user.workspace_id, tokenId: parsed.id, kind: parsed.kind, expiresAt: expires_at };
}

const expired = (row: TokenRow) => row.expires_at !== null && row.expires_at.getTime() <= Date.now();
