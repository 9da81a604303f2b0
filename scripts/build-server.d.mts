/** dist/server/main.mjs: what `npm start` runs. */
export const SERVER_BUNDLE: string;
/** The node flags `npm start` runs it with. */
export const SERVER_NODE_FLAGS: string[];
/** dist/bench-without-token-check/main.mjs: the bench's build with the cast's token check compiled out (never started by npm start). */
export const BENCH_BUNDLE_WITHOUT_TOKEN_CHECK: string;
/** Bundle server/main.ts (and the database thread's entry beside it) atomically; returns the main bundle's path. */
export function buildServer(o?: { withoutTokenCheck?: boolean }): Promise<string>;
