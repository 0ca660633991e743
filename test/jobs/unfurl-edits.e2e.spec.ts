import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStore } from '../../src/event-store/event-store.js';
import { JobQueues } from '../../src/jobs/job-queues.js';
import { QUEUES, unfurlJobId } from '../../src/jobs/queues.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// Through the whole path: chat.update -> stream -> dispatcher -> unfurl worker -> message_changed.
describe('unfurls follow edits', () => {
  let t: TestApp;
  let site: Server;
  let base: string;
  let ada: TestUser;

  beforeAll(async () => {
    site = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<html><head><meta property="og:title" content="Page ${req.url}"><meta property="og:site_name" content="Docs"></head></html>`,
      );
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    t = await TestApp.start({ UNFURL_ALLOW_LOOPBACK: 'true', JOBS_DISPATCH_INTERVAL_MS: '50' });
    ada = await t.newUser(await t.newWorkspace());
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => site.close(r));
  });

  const titles = async (channel: string) => {
    const [message] = (await t.api('conversations.history', ada.token, { channel })).body.messages;
    return ((message.attachments ?? []) as Array<{ title: string }>).map((a) => a.title);
  };
  const changes = async (channel: string) =>
    (await t.app.get(EventStore).readChannel(channel, 0, 100)).filter((e) => e.type === 'message_changed');

  it('previews a link an edit adds, and drops the preview of a link an edit removes', async () => {
    const channel = await t.newChannel(ada, 'edits');
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: 'no link yet' });
    const ts = posted.body.ts as string;

    const added = await t.api('chat.update', ada.token, { channel, ts, text: `now see ${base}/a` });
    expect(added.body.ok).toBe(true);
    await waitFor(async () => (await titles(channel)).length === 1, 20_000, 'the preview of the added link');
    expect(await titles(channel)).toEqual(['Page /a']);
    // One job per edit event, with an id derived from the edit's own seq. The preview may already
    // be there from the post's own job: a dispatcher that reads the post after the edit committed
    // sees the edited body (the global cursor can hold the edit back while another transaction of
    // the server is open), so wait for the edit's job rather than assume it came first.
    const queue = t.app.get(JobQueues).get(QUEUES.unfurl);
    await waitFor(async () => (await queue.getJob(unfurlJobId(channel, added.body.seq))) !== undefined, 20_000, "the edit's unfurl job");
    const job = await queue.getJob(unfurlJobId(channel, added.body.seq));
    expect(job?.data).toEqual({ channel, seq: posted.body.seq });

    const swapped = await t.api('chat.update', ada.token, { channel, ts, text: `moved to ${base}/b` });
    expect(swapped.body.ok).toBe(true);
    await waitFor(async () => (await titles(channel))[0] === 'Page /b', 20_000, 'the preview of the new link only');
    expect(await titles(channel)).toEqual(['Page /b']);

    const removed = await t.api('chat.update', ada.token, { channel, ts, text: 'no links any more' });
    expect(removed.body.ok).toBe(true);
    await waitFor(async () => (await titles(channel)).length === 0, 20_000, 'the preview removed');
    // Live clients were told: the last message_changed shows the message without attachments.
    const last = (await changes(channel)).at(-1)!;
    expect(last.seq).toBeGreaterThan(removed.body.seq);
    expect(last.message).toEqual(expect.not.objectContaining({ attachments: expect.anything() }));
    expect((last.message as { text: string }).text).toBe('no links any more');
    // Settled: no further event appears once the previews match the links.
    const settled = (await changes(channel)).length;
    await new Promise((r) => setTimeout(r, 500));
    expect((await changes(channel)).length).toBe(settled);
  });
});
