// The atomcast service worker: shows Web Push notifications and opens the client on a click.
// The server sends JSON {title, body, channel, ts, thread_ts?, url}; one notification per channel
// stays on screen (tag), a newer message replaces it.
self.addEventListener('push', (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: 'atomcast', body: event.data ? event.data.text() : '' };
  }
  const channel = typeof data.channel === 'string' ? data.channel : '';
  event.waitUntil(
    self.registration.showNotification(data.title || 'atomcast', {
      body: data.body || '',
      tag: channel || undefined,
      renotify: !!channel,
      data: { channel, url: data.url || '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { channel, url } = event.notification.data || {};
  const target = new URL(channel && /^[A-Z0-9]+$/.test(channel) ? `/c/${channel}` : '/', url || self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (open) return open.focus().then((w) => w && w.navigate(target));
      return self.clients.openWindow(target);
    }),
  );
});

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
