// A local S3-compatible server (s3rver) for the files tests, in a process of its own so its memory
// is not counted as the app's: node s3rver-process.mjs <port> <directory> <bucket>. Prints "ready".
import S3rver from 's3rver';

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, configureBuckets: [{ name: bucket }] });
await server.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
