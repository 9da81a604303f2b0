/** dist/server/main.mjs: what `npm start` runs. */
export const SERVER_BUNDLE: string;
/** Bundle server/main.ts into SERVER_BUNDLE (atomically); returns its path. */
export function buildServer(): Promise<string>;
