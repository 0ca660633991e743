/**
 * The NOTIFY channel of the ephemeral bus (src/realtime/ephemeral-bus.ts). Declared here, below
 * every layer that signals on it: the bus listens; profiles (workspaces) and the status-expiry job
 * (jobs) send user changes on it without importing the real-time layer.
 */
export const EPHEMERAL_NOTIFY_CHANNEL = 'atomcast_ephemeral';
