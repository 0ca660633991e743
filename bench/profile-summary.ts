// node dist-bench/bench/profile-summary.js FILE.cpuprofile [top] [skip seconds]
// Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by package.
// Skip the first seconds (start-up, module loading, warm-up) to see the steady state.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [top] [skip seconds]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const skipUs = Number(skipArg ?? 0) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
process.stdout.on('error', () => process.exit(0)); // piped into head

// Samples after the skipped start, counted per node.
const hitCount = new Map<number, number>();
let elapsed = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed >= skipUs) hitCount.set(id, (hitCount.get(id) ?? 0) + 1);
});

/** node_modules/<package> (scoped too), our own code by folder, or node's internals. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /\/(src|bench)\/(.+)\/[^/]+$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

const byFunction = new Map<string, number>();
const byOrigin = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const hits = hitCount.get(node.id) ?? 0;
  if (!hits) continue;
  total += hits;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist-bench\//, '')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  const o = origin(url, functionName);
  byOrigin.set(o, (byOrigin.get(o) ?? 0) + hits);
}

const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${k}\n`);
  }
};
const busy = total - (byOrigin.get('(idle)') ?? 0);
process.stdout.write(
  `${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, ${total} samples after ${skipUs / 1e6} s, ${((100 * busy) / total).toFixed(0)}% busy\n`,
);
show('self time by package / folder', byOrigin);
show('self time by function', byFunction);
