import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * The functions a V8 CPU profile (`node --cpu-prof`, see `--cpu-prof` of the benchmark) spent
 * the most SELF time in — the place to start optimising. `node dist/bench/bench/profileTop.js
 * <file.cpuprofile> [n]` prints the top n (default 10).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** µs since the previous sample; timeDeltas[i] belongs to samples[i]. */
  timeDeltas: number[];
}

export interface SelfTime {
  /** `name (file:line)`; V8's pseudo-frames keep their names: (garbage collector), (program), (idle). */
  frame: string;
  selfMs: number;
  /** Of the busy time: all sampled time but `(idle)` (a server under a benchmark idles between runs). */
  percent: number;
}

/** Busy self time per function (frames with equal name, file and line add up), largest first. */
const IDLE = '(idle)';

export function topSelfTime(profile: CpuProfile, n: number, root = ''): SelfTime[] {
  const frameOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url === '' ? '' : relative(root, url.replace(/^file:\/\//, ''));
    frameOf.set(node.id, file === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})`);
  }
  const micros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = frameOf.get(id) ?? `(unknown node ${id})`;
    if (frame !== IDLE) total += delta;
    micros.set(frame, (micros.get(frame) ?? 0) + delta);
  });
  return [...micros]
    .filter(([frame]) => frame !== IDLE)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, us]) => ({ frame, selfMs: Number((us / 1000).toFixed(1)), percent: total === 0 ? 0 : Number(((us * 100) / total).toFixed(1)) }));
}

if (require.main === module) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: profileTop <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const row of topSelfTime(profile, Number(count ?? 10), process.cwd())) {
    process.stdout.write(`${row.selfMs.toFixed(1).padStart(9)} ms ${row.percent.toFixed(1).padStart(5)}%  ${row.frame}\n`);
  }
}
