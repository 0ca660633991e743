// The site the unfurl benchmark links to, in its own process (its own event loop, as a real site
// would be): one article page with OpenGraph tags, about 16 KB like a typical blog post. Reports
// its port over IPC and exits on a "stop" message.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const paragraph =
  '<p>Atomcast keeps every channel as a gapless stream of events, so a client that reconnects asks for what it missed by sequence number and nothing else. ' +
  'Previews, retention and customer-managed keys all run beside that stream as background jobs.</p>\n';

export const ARTICLE = `<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Shipping link previews</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:type" content="article">
<meta property="og:title" content="Shipping link previews without opening the intranet">
<meta property="og:description" content="How the unfurler resolves, vets and pins every address before it connects, and why the preview is an event in the channel stream.">
<meta property="og:image" content="/img/cover.png">
<meta property="og:site_name" content="Atomcast Engineering">
<meta name="twitter:card" content="summary_large_image">
<link rel="stylesheet" href="/css/site.css">
</head><body><article>
<h1>Shipping link previews</h1>
${paragraph.repeat(48)}</article></body></html>
`;

const body = Buffer.from(ARTICLE);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port, bytes: body.length });
});
process.on('message', (msg: { stop?: boolean }) => {
  if (msg.stop) server.close(() => process.exit(0)).closeAllConnections();
});
process.on('disconnect', () => process.exit(0));
