// Old WebViews (WeChat's on an old Android, iOS 12 Safari) lack these; the bundle's syntax is lowered by
// the build target, but functions it calls must exist. Keep this list to what the bundle really uses.
// All of it is about 200 bytes gzipped: loading it only where needed would cost a modern phone more
// (a test and an extra request before Svelte may run) than it saves.
if (typeof queueMicrotask !== 'function') {
  (window as { queueMicrotask?: (cb: () => void) => void }).queueMicrotask = (cb) => {
    void Promise.resolve().then(cb);
  };
}
if (typeof globalThis === 'undefined') {
  (window as unknown as { globalThis: Window }).globalThis = window;
}
// Svelte's template cloning calls replaceAll('<!>', '<!---->') (Chrome 85, Safari 13.1). Enough for a
// string search and a plain string replacement, which is all the bundle uses.
if (typeof String.prototype.replaceAll !== 'function') {
  String.prototype.replaceAll = function (this: string, search: string, replacement: string) {
    return this.split(search).join(replacement);
  } as typeof String.prototype.replaceAll;
}
