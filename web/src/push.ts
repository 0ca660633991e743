// Web Push for this browser: the service worker (/sw.js) and the subscription the server sends
// notifications to (users.push.subscribe). The server's VAPID public key comes from users.push.info.
import { api } from './api';

export type PushState = 'unsupported' | 'off-server' | 'denied' | 'off' | 'on';

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

async function registration(): Promise<ServiceWorkerRegistration> {
  return (await navigator.serviceWorker.getRegistration('/')) ?? navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

/** Whether this browser gets notifications now. */
export async function pushState(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  const info = await api<{ enabled: boolean }>('users.push.info');
  if (!info.enabled) return 'off-server';
  if (Notification.permission === 'denied') return 'denied';
  const reg = await navigator.serviceWorker.getRegistration('/');
  return (await reg?.pushManager.getSubscription()) ? 'on' : 'off';
}

/** Asks for permission, subscribes this browser and registers it with the server. */
export async function enablePush(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  const info = await api<{ enabled: boolean; vapid_public_key: string }>('users.push.info');
  if (!info.enabled) return 'off-server';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const reg = await registration();
  await navigator.serviceWorker.ready;
  const sub =
    (await reg.pushManager.getSubscription()) ??
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(info.vapid_public_key) }));
  const json = sub.toJSON();
  await api('users.push.subscribe', { endpoint: sub.endpoint, p256dh: json.keys?.p256dh, auth: json.keys?.auth });
  return 'on';
}

/** Stops notifications to this browser (server first: a failure leaves both as they were). */
export async function disablePush(): Promise<PushState> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  const sub = await reg?.pushManager.getSubscription();
  if (sub) {
    await api('users.push.unsubscribe', { endpoint: sub.endpoint }).catch(() => undefined);
    await sub.unsubscribe();
  }
  return 'off';
}

function fromBase64Url(value: string): Uint8Array<ArrayBuffer> {
  const raw = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
