import type { Projection } from './projection.js';
import { UnreadProjection } from './unread/unread.projection.js';

/** Every projection the projector keeps, by name (the rebuild command takes these names). */
export function allProjections(): Projection[] {
  return [new UnreadProjection()];
}

export function findProjection(name: string): Projection | undefined {
  return allProjections().find((p) => p.name === name);
}
