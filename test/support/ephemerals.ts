import type { TestClient } from '../realtime/support.js';

/** An ephemeral message as a user's sockets get it (chat.postEphemeral, an app's respond()). */
export interface Ephemeral {
  channel: string;
  message: Record<string, any>;
}

/** The ephemeral messages `client`'s socket receives from now on, in arrival order. */
export function ephemeralsOf(client: TestClient): Ephemeral[] {
  const got: Ephemeral[] = [];
  client.socket!.on('ephemeral', (e: Ephemeral) => got.push(e));
  return got;
}
