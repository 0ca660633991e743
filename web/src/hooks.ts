import { useEffect, useReducer } from 'preact/hooks';
import type { Chat } from './chat';

/** Redraws the calling component whenever the chat state changed (at most once per frame). */
export function useChat(chat: Chat): Chat {
  const [, redraw] = useReducer((n: number, _: number) => n + 1, 0);
  useEffect(() => chat.subscribe(() => redraw(0)), [chat]);
  return chat;
}
