/**
 * Hash routes (#/meeting/3/desk): the server serves the built pages as static files, so a path
 * route would not survive a reload.
 */
export class Router {
  path = $state('/');
  readonly segments = $derived(this.path.split('/').filter(Boolean));

  constructor(initial = typeof location !== 'undefined' ? location.hash : '') {
    this.path = Router.normalize(initial);
    if (typeof window !== 'undefined') {
      window.addEventListener('hashchange', () => {
        this.path = Router.normalize(location.hash);
      });
    }
  }

  static normalize(hash: string): string {
    const p = hash.replace(/^#/, '');
    return p.startsWith('/') ? p : `/${p}`;
  }

  go(path: string): void {
    if (typeof location !== 'undefined' && location.hash !== `#${path}`) location.hash = path;
    this.path = path;
  }
}

export const href = (path: string) => `#${path}`;
