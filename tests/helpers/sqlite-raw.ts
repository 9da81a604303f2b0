/**
 * SQLite's side files read as raw bytes, the way someone holding a copy of the data folder would read
 * them without SQLite (which hides what it considers stale): a rollback journal's page images, and a
 * write-ahead log's frames grouped by the commit they belong to. File formats:
 * https://www.sqlite.org/fileformat2.html (sections 1.5 "The rollback journal" and 4 "The WAL").
 */

export interface PageImage {
  page: number;
  data: Buffer;
  /** Which commit (in file order) the image belongs to: 0 for a journal's one transaction. */
  commit: number;
}

const JOURNAL_MAGIC = Buffer.from('d9d505f920a163d7', 'hex');

/** Page images in a rollback journal (its records may run past nRec when it was not finalised). */
export function journalPages(journal: Buffer | null, pageSize: number): PageImage[] {
  if (!journal || journal.length < 28 || !journal.subarray(0, 8).equals(JOURNAL_MAGIC)) return [];
  const sectorSize = journal.readUInt32BE(20) || 512;
  const headerSize = Math.max(sectorSize, 28);
  const out: PageImage[] = [];
  for (let off = headerSize; off + 4 + pageSize + 4 <= journal.length; off += 4 + pageSize + 4) {
    const page = journal.readUInt32BE(off);
    if (page === 0) break;
    out.push({ page, data: journal.subarray(off + 4, off + 4 + pageSize), commit: 0 });
  }
  return out;
}

/** Frames of a write-ahead log, each with the index of the commit it belongs to (frames after the last commit get the next index). */
export function walPages(wal: Buffer | null): PageImage[] {
  if (!wal || wal.length < 32) return [];
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return [];
  const pageSize = wal.readUInt32BE(8);
  const out: PageImage[] = [];
  let commit = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    const page = wal.readUInt32BE(off);
    const sizeAfterCommit = wal.readUInt32BE(off + 4);
    out.push({ page, data: wal.subarray(off + 24, off + 24 + pageSize), commit });
    if (sizeAfterCommit !== 0) commit += 1;
  }
  return out;
}

export function pageSizeOf(db: Buffer): number {
  const v = db.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

/** Every match of `pattern` (a global regex over the bytes as latin1-decoded text of UTF-8) with its byte offset. */
export function findAll(bytes: Buffer, pattern: RegExp): { offset: number; match: RegExpExecArray }[] {
  const text = bytes.toString('latin1');
  const out: { offset: number; match: RegExpExecArray }[] = [];
  for (const m of text.matchAll(pattern)) out.push({ offset: m.index!, match: m as RegExpExecArray });
  return out;
}

/** The fraction of pairs (i, j) that `guess` puts in the same order as `truth` (0.5 is chance; pairs tied in either are skipped). */
export function pairOrderAgreement(truth: number[], guess: number[]): { agree: number; pairs: number } {
  let agree = 0;
  let pairs = 0;
  for (let i = 0; i < truth.length; i++) {
    for (let j = i + 1; j < truth.length; j++) {
      if (truth[i] === truth[j] || guess[i] === guess[j]) continue;
      pairs++;
      if (truth[i]! < truth[j]! === guess[i]! < guess[j]!) agree++;
    }
  }
  return { agree: pairs === 0 ? 0.5 : agree / pairs, pairs };
}
