/**
 * The bench's baseline: a Fastify hello-world from the same node_modules, run as its own process the
 * way the Ceping server is (plain node, as `npm start` runs dist/server/main.mjs). POST /hello parses the JSON body and answers {ok:true};
 * GET /healthz answers the same; /ws is a websocket fan-out, and POST /step answers and then sends
 * `size` bytes to every open /ws socket (what a live step costs with no counting at all).
 * Usage: node bench/hello-server.mjs PORT
 */
import Fastify from 'fastify';
import fastifyWebsocket from '@fastify/websocket';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
await app.register(fastifyWebsocket);

/** @type {Set<import('ws').WebSocket>} */
const sockets = new Set();

app.post('/hello', async () => ({ ok: true }));
app.get('/healthz', async () => ({ ok: true }));
app.get('/ws', { websocket: true }, (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.send(JSON.stringify({ type: 'hello' }));
});
app.post('/step', async (req, reply) => {
  await reply.send({ ok: true });
  const text = JSON.stringify({ type: 'snapshot', pad: 'x'.repeat(Math.max(0, req.body.size - 30)) });
  for (const s of sockets) s.send(text);
  return reply;
});

await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`hello listening on ${port}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
