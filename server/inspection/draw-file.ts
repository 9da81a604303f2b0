/**
 * The talk-draw candidates file: written by the server (the talk list's 下载候选名单), read by
 * `npx ceping draw`. Plain UTF-8 text, one name a line; lines starting with # are comments, and the
 * header comments carry the draw's parameters so the file alone recomputes the draw. A file typed
 * by hand from the sign-in sheet works too, with --seed, --meeting and --count on the command line.
 */

export interface DrawFileHeader {
  identity: string;
  seed: string;
  count: number;
  round: number;
  poolDigest: string;
}

export function drawFileText(h: DrawFileHeader, pool: string[]): string {
  return [
    '# Ceping 个别谈话抽签候选名单 / talk-draw candidates',
    '# 重新计算 / recompute: npx ceping draw 本文件 (this file)',
    `# 会议 meeting: ${h.identity}`,
    `# 种子 seed: ${h.seed}`,
    `# 抽取人数 count: ${h.count}`,
    `# 第 ${h.round} 次抽取 / round: ${h.round}`,
    `# 候选人数 candidates: ${pool.length}`,
    `# 名单校验码 pool check: ${h.poolDigest}`,
    ...pool,
    '',
  ].join('\n');
}

export interface ParsedDrawFile {
  names: string[];
  identity: string | null;
  seed: string | null;
  count: number | null;
  poolDigest: string | null;
}

export function parseDrawFile(text: string): ParsedDrawFile {
  const out: ParsedDrawFile = { names: [], identity: null, seed: null, count: null, poolDigest: null };
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      out.names.push(line);
      continue;
    }
    const field = (key: string) => new RegExp(`\\b${key}:\\s*(.*)$`).exec(line)?.[1]?.trim() ?? null;
    out.identity ??= field('meeting');
    out.seed ??= field('seed');
    const count = field('count');
    if (count !== null && /^\d+$/.test(count)) out.count ??= Number(count);
    out.poolDigest ??= field('pool check');
  }
  return out;
}
