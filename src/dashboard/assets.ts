/**
 * The page: plain HTML, CSS and ES modules in ./public, shipped as they are (no build step,
 * nothing fetched from elsewhere at run time, so it works offline). `npm run build` copies
 * them beside the compiled server (scripts/sync-dist.js). Read once at start; only these
 * names are served, so no request path ever reaches the file system.
 */
import { readFileSync } from 'node:fs';

export interface Asset {
  body: string;
  type: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The files of ./public, by the name a page asks for. */
export const ASSET_NAMES = ['index.html', 'app.js', 'dom.js', 'views.js', 'forms.js', 'chart.js', 'style.css'] as const;

export function loadAssets(dir: URL = new URL('./public/', import.meta.url)): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of ASSET_NAMES) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    try {
      assets.set(name, { body: readFileSync(new URL(name, dir), 'utf8'), type: TYPES[ext]! });
    } catch (error) {
      throw new Error(`the dashboard's page is missing ${name} in ${dir.pathname} (${(error as Error).message}): rebuild with npm run build`);
    }
  }
  return assets;
}
