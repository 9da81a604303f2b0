// Entry of the file worker: TypeScript is compiled on the fly (tsx), as for the server itself, in
// whatever way the parent was started (tsx, vitest, plain node).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
