import type { MessagePosted } from '../../domain/events.js';
import type { SlackMessage } from '../../domain/message.js';

/**
 * The text search indexes for a message: what `message` events and `message_changed` events carry.
 * The one place to extend when messages carry more text (Block Kit blocks, attachments' titles and
 * texts): the projection and the re-keying job both index exactly what this returns.
 */
export function searchableText(message: Pick<MessagePosted, 'text'> | Pick<SlackMessage, 'text'>): string {
  return message.text;
}
