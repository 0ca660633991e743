import { Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { ExecutionContext } from '@nestjs/common';
import { SlackError } from '../domain/slack-error.js';
import type { Caller } from '../workspaces/workspaces.service.js';

/** Per-token limit (runs after SlackAuthGuard). The throttler sets Retry-After; we answer Slack's way. */
@Injectable()
export class SlackRateLimitGuard extends ThrottlerGuard {
  protected override async getTracker(req: { caller?: Caller; ip?: string }): Promise<string> {
    return req.caller ? `token:${req.caller.tokenId}` : `ip:${req.ip}`;
  }

  protected override async throwThrottlingException(_ctx: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new SlackError('ratelimited', 429, { retry_after: detail.timeToBlockExpire });
  }
}
