/**
 * Every limit on an uploaded file, in one place. A refused file's message names the limit it broke.
 * Real rosters (at most 5,000 people) and team lists are far inside all of them.
 */
const MB = 1024 * 1024;

export const FILE_LIMITS = {
  /** .xlsx, judged from the zip's central directory before anything is inflated. */
  zip: { maxEntries: 500, maxEntryBytes: 20 * MB, maxTotalBytes: 40 * MB },
  xlsx: {
    maxSharedStrings: 200_000,
    /** All shared strings together, in characters. */
    maxSharedStringChars: 8_000_000,
    /** Cells right of this column are not read (a roster has three columns). */
    maxColumns: 200,
    maxMerges: 10_000,
  },
  /** Archive imports (JSON), checked while scanning the bytes, before JSON.parse builds anything. */
  archive: { maxBytes: 32 * MB, maxDepth: 48, maxKeysPerObject: 10_000, maxValues: 4_000_000 },
  /** The worker a file is read in: its own heap, and a wall clock. */
  worker: {
    table: { heapMb: 128, timeoutMs: 20_000 },
    archive: { heapMb: 384, timeoutMs: 60_000 },
  },
  /** Files are read one at a time; this many more may wait, further uploads are refused (IMPORT_BUSY). */
  maxWaiting: 3,
} as const;
