import type { Config } from './config.ts';

const SAFE_HOST = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

function hostPart(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * The websocket origins the pages may connect to, from configuration only: PUBLIC_URL and the
 * addresses the server listens on. Never from a request header, which anyone can set.
 */
export function websocketOrigins(config: Pick<Config, 'HOST' | 'PORT' | 'PUBLIC_URL'>, lanAddresses: readonly string[]): string[] {
  const out = new Set<string>();
  const add = (scheme: 'ws' | 'wss', host: string, port: number | string) => {
    const h = hostPart(host);
    if (SAFE_HOST.test(h)) out.add(`${scheme}://${h}${port === '' ? '' : `:${port}`}`);
  };
  if (config.PUBLIC_URL) {
    const u = new URL(config.PUBLIC_URL);
    add(u.protocol === 'https:' ? 'wss' : 'ws', u.hostname, u.port);
  }
  const wildcard = config.HOST === '0.0.0.0' || config.HOST === '::' || config.HOST === '';
  const hosts = wildcard ? ['127.0.0.1', 'localhost', ...lanAddresses] : [config.HOST, ...(config.HOST === '127.0.0.1' ? ['localhost'] : [])];
  for (const h of hosts) add('ws', h, config.PORT);
  return [...out];
}

/** Nothing leaves the origin: no CDN, no font, no analytics, no frame, no plugin. */
export function contentSecurityPolicy(config: Pick<Config, 'HOST' | 'PORT' | 'PUBLIC_URL'>, lanAddresses: readonly string[]): string {
  const ws = websocketOrigins(config, lanAddresses);
  return [
    "default-src 'self'",
    `connect-src 'self'${ws.map((o) => ` ${o}`).join('')}`,
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}
