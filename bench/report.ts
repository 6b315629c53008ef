import { availableParallelism, cpus, totalmem } from 'node:os';
import type { BenchRecord, TargetName } from './records';
import { SCENARIOS } from './scenarios';
import type { SoakReport } from './soak';
import type { TargetCheck } from './targets';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Number((totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** What bench/results/*.json holds. */
export interface BenchReport {
  date: string;
  mode: string;
  machine: Machine;
  settings: { latencies: number[]; rounds: number; durationSec: number; warmupSec: number };
  records: BenchRecord[];
  targets: TargetCheck[];
  soak?: SoakReport;
}

const TARGET_TITLES: Readonly<Record<TargetName, string>> = {
  gateway: 'gateway',
  floor: 'floor',
  ceiling: 'ceiling (bare node:http, stored bytes)',
  'gateway-info': 'gateway at LOG_LEVEL=info',
};

const n = (value: number | null, digits: number): string => (value === null ? '–' : value.toFixed(digits));

/** The results as markdown: the matrix (one row per target and cell), the targets, the soak. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Run of ${report.date} (${report.mode}): ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}.`,
    `${report.settings.rounds} round(s) of ${report.settings.durationSec} s per target (after ${report.settings.warmupSec} s of warm-up); medians.`,
    '',
    '| Latency | Scenario | Cache | Target | req/s | × floor | p50 / p99 ms | Upstream calls/op under load | Calls alone | CPU ms/op | Peak RSS MB | Errors |',
    '|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // One row per record, each cell's targets in the order their rounds alternated.
  for (const record of report.records) {
    const floor = report.records.find(
      (r) => r.target === 'floor' && r.scenario === record.scenario && r.cache === record.cache && r.latencyMs === record.latencyMs,
    );
    const ratio = floor === undefined || floor.reqPerSec === 0 ? null : record.reqPerSec / floor.reqPerSec;
    const cells = [
      `${record.latencyMs} ms`,
      `${record.scenario} ${SCENARIOS[record.scenario].title}`,
      record.cache,
      TARGET_TITLES[record.target],
      n(record.reqPerSec, 0),
      ratio === null ? '–' : `${ratio.toFixed(3)}×`,
      `${n(record.p50Ms, 1)} / ${n(record.p99Ms, 1)}`,
      n(record.upstreamCallsPerOp, 2),
      String(record.callsAlone),
      n(record.cpuMsPerOp, 3),
      n(record.rssMb, 0),
      String(record.errors),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', '| Target | Measured | Met |', '|---|---|---|');
  for (const check of report.targets) {
    lines.push(`| ${check.description} | ${check.measured} | ${check.met === null ? 'not measured' : check.met ? 'yes' : '**no**'} |`);
  }
  if (report.soak !== undefined) {
    const s = report.soak;
    lines.push(
      '',
      `Soak: S5 on the gateway (caches default) for ${s.seconds} s at ${s.latencyMs} ms: ${n(s.reqPerSec, 0)} req/s, p99 ${n(s.p99Ms, 1)} ms, ${s.errors} errors.`,
      `RSS (MB) every ${s.samples.length > 1 ? (s.samples[1]?.t ?? 0) - (s.samples[0]?.t ?? 0) : 0} s: ${s.samples.map((sample) => n(sample.rssMb, 0)).join(' ')}`,
    );
  }
  return lines.join('\n');
}

export const TABLE_START = '<!-- bench:results:start -->';
export const TABLE_END = '<!-- bench:results:end -->';

/** Replaces what lies between the markers (appending them when missing), keeping the rest. */
export function replaceResults(readme: string, markdown: string): string {
  const block = `${TABLE_START}\n${markdown}\n${TABLE_END}`;
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end === -1 || end < start) return `${readme.trimEnd()}\n\n${block}\n`;
  return readme.slice(0, start) + block + readme.slice(end + TABLE_END.length);
}
