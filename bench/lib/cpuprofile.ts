/**
 * A `node --cpu-prof` profile read as text: the functions with the most samples of their own (self) and
 * the most samples under them (total), optionally only for the samples taken in a window of time.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SummaryOptions {
  top: number;
  /** Paths under this folder are printed relative to it. */
  root: string;
  /** Only samples taken at or after `from` and before `to` of one of these windows (the monotonic clock, µs). */
  windows?: { from: number; to: number }[];
}

export function summariseProfile(p: CpuProfile, o: SummaryOptions): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => {
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(`${o.root}/`, '')}:${f.lineNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let t = p.startTime;
  let n = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (o.windows && !o.windows.some((w) => t >= w.from && t < w.to)) continue;
    const leaf = byId.get(p.samples[i]!)!;
    n++;
    if (leaf.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
    // Each function once per sample, however deep its recursion.
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + 1);
    }
  }
  const busy = n - idle;
  const pct = (x: number) => `${((100 * x) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, o.top)
      .map(([k, v]) => `  ${pct(v)}  ${k}`)
      .join('\n');
  return [
    `${n} samples, ${idle} idle; percentages of the ${busy} busy samples`,
    'self:',
    top(self),
    'total (the function and what it calls):',
    top(new Map([...total].filter(([k]) => !/^\((root|program|garbage collector)\)/.test(k)))),
    'the SQL layer (share of the busy samples whose stack holds…):',
    ...sqlLayer(p, o.windows).map(([label, x]) => `  ${pct(x)}  ${label}`),
  ].join('\n');
}

/**
 * Where the database layer's time goes, the same way in every profile so before/after compare: samples
 * whose stack holds better-sqlite3's `prepare` (SQLite compiling a statement); Kysely's driver running a
 * query (`executeQuery` of the SQLite driver: binding, stepping, building rows, and `prepare` when not
 * kept); Kysely building and compiling a query (its query builders, parsers, operation nodes and the
 * query compiler), outside the driver.
 */
function sqlLayer(p: CpuProfile, windows: SummaryOptions['windows']): [string, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isPrepare = (f: CallFrame) => f.functionName === 'prepare' && /better-sqlite3/.test(f.url);
  const isDriver = (f: CallFrame) => f.functionName === 'executeQuery' && /kysely\/dist\/.*sqlite-driver/.test(f.url);
  const isBuilding = (f: CallFrame) => /kysely\/dist\/esm\/(query-builder|query-compiler|parser|operation-node|expression|dynamic|util)\//.test(f.url);
  let prepare = 0;
  let driver = 0;
  let building = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (windows && !windows.some((w) => t >= w.from && t < w.to)) continue;
    const leaf = byId.get(p.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    let inPrepare = false;
    let inDriver = false;
    let inBuilding = false;
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      inPrepare ||= isPrepare(f);
      inDriver ||= isDriver(f);
      inBuilding ||= isBuilding(f);
    }
    if (inPrepare) prepare++;
    if (inDriver) driver++;
    if (inBuilding && !inDriver) building++;
  }
  return [
    ["better-sqlite3's prepare (compiling SQL)", prepare],
    ["Kysely's SQLite driver running a query (prepare included)", driver],
    ['Kysely building and compiling queries (outside the driver)', building],
  ];
}
