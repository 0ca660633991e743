// An HTTP client in a process of its own, so a test that measures the app's memory measures only the
// app: `upload <url> <bytes>` POSTs that many deterministic bytes as a stream, `download <url> <token>`
// reads one. Both print one JSON line: {status, bytes, sha256, body?}.
import { createHash } from 'node:crypto';

const [mode, url, arg] = process.argv.slice(2);
const CHUNK = 1024 * 1024;
const hash = createHash('sha256');

if (mode === 'upload') {
  const size = Number(arg);
  let sent = 0;
  const body = new ReadableStream(
    {
      pull(controller) {
        if (sent >= size) return controller.close();
        const chunk = Buffer.alloc(Math.min(CHUNK, size - sent), sent / CHUNK);
        chunk.writeUInt32BE(sent / CHUNK, 0);
        hash.update(chunk);
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 1 },
  );
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body, duplex: 'half' });
  console.log(JSON.stringify({ status: res.status, bytes: sent, sha256: hash.digest('hex'), body: await res.text() }));
} else {
  const res = await fetch(url, { headers: { authorization: `Bearer ${arg}` } });
  let bytes = 0;
  for await (const chunk of res.body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  console.log(JSON.stringify({ status: res.status, bytes, sha256: hash.digest('hex') }));
}
