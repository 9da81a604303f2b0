// The accept-wait probes of bench/lib/load.ts's probeWhile, on a thread of their own: every `everyMs`
// open a raw TCP connection, send a GET and time until the first byte of the reply. The bench's main
// thread runs the load generator, whose event loop is nearly always busy under 200 connections; timed
// there, a probe's reply waited for that loop too, and the figure was the load generator's lag as much
// as the server's accept. Here nothing else runs on the loop that sees the reply.
// Plain JavaScript so the worker starts the same under tsx and plain node.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { port, path, everyMs } = workerData;
const probes = [];
let over = false;

function firstByte() {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    socket.setTimeout(60_000, () => socket.destroy(new Error('no first byte within 60 s')));
    socket.once('data', () => {
      resolve(performance.now() - start);
      socket.destroy();
    });
    socket.once('error', (e) => resolve(`error: ${e.message}`));
  });
}

parentPort.on('message', () => (over = true));
while (!over) {
  probes.push(firstByte());
  await new Promise((r) => setTimeout(r, everyMs));
}
parentPort.postMessage(await Promise.all(probes));
