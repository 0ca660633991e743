import type { AppRow } from '../../jobs/app-events/apps.repository.js';
import { SlackError } from '../../domain/slack-error.js';
import type { Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';

/** The app's bot user as a caller of the chat use cases (webhooks, response URLs act as the app). */
export async function appCaller(workspaces: WorkspacesService, app: AppRow): Promise<Caller> {
  const user = await workspaces.findUser(app.workspace_id, app.bot_user_id);
  if (!user || user.deleted) throw new SlackError('account_inactive');
  return { user, workspace: app.workspace_id, tokenId: `app:${app.id}`, kind: 'bot', expiresAt: null };
}
