import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorBody } from './errors.ts';
import { openFilesLimit } from './net.ts';

/**
 * How long a connection may hold the server without finishing a request. Node's defaults (and Fastify's)
 * let a client that sends half a request keep its connection for minutes (no request timeout at all,
 * headers within 60 s, checked every 30 s), and an idle kept-alive connection for 72 s: a few hundred such
 * connections from one machine on the hall's Wi-Fi take every file descriptor of a default `ulimit -n`
 * of 1024, and no phone can connect. With these, a silent or half-sent request is answered 408 `TIMEOUT`
 * within about 15 s (headers) or 65 s (the whole request), and an idle connection closes after 10 s (a
 * phone polls every 3 s, so its own connection stays open). Admin uploads (a roster, an archive of a few
 * MB) travel the township's LAN well within the minute.
 */
export const HTTP_TIMEOUTS = {
  headersMs: 10_000,
  requestMs: 60_000,
  keepAliveMs: 10_000,
  /** How often Node looks for connections past the two limits above. */
  checkEveryMs: 5_000,
};

/**
 * File descriptors kept for everything but the sockets: the database and its journal (SQLite opens the
 * journal at each write), the worker threads, the log, the files a request reads. With every descriptor
 * taken by connections, a cast on a connection already open was refused 503 STORAGE_FAILED (SQLite
 * could not open its journal); Node closes a connection past `maxConnections` as it arrives instead.
 */
export const FILES_KEPT_FOR_THE_SERVER = 256;

/** How many connections at once, for a process that may open `openFiles` files (null: no cap). */
export function connectionCap(openFiles: number | null): number | null {
  return openFiles === null ? null : Math.max(64, openFiles - FILES_KEPT_FOR_THE_SERVER);
}

/**
 * The HTTP server Fastify runs on (its `serverFactory`): Node's, with the timeouts above, a cap on
 * connections that leaves descriptors for the database (above), and one refusal
 * of Node's own moved here so it has the documented shape: an HTTP/1.1 request without a Host header
 * (which Node would answer 400 with an empty body) is answered 400 `BAD_REQUEST` in JSON.
 */
export function httpServerFactory(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    { requireHostHeader: false, headersTimeout: HTTP_TIMEOUTS.headersMs, requestTimeout: HTTP_TIMEOUTS.requestMs, connectionsCheckingInterval: HTTP_TIMEOUTS.checkEveryMs },
    (req, res) => {
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        const body = JSON.stringify(errorBody('BAD_REQUEST'));
        res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body);
        return;
      }
      handler(req, res);
    },
  );
  server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveMs;
  const cap = connectionCap(openFilesLimit());
  if (cap !== null) server.maxConnections = cap;
  return server;
}
