import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound } from '../broker/api/http.js';
import type { PublicRoute } from '../broker/api/route.js';

/**
 * The console's styles and scripts, served by the central itself: a site without internet
 * still gets every page whole. Client scripts are TypeScript under console/client/, bundled
 * once on first request with esbuild, so a page checks a typed code with the same module the
 * central uses (protocol/checkpointCodeDigits.ts) and there is no build step to forget.
 */

/** The checkout (or installed package) root: sources and assets sit there whether this runs from .ts or dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'console', 'client'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('console assets: no package root with console/client above this module');
    dir = parent;
  }
  return dir;
}

const clientScripts = new Set(['check', 'guard', 'events', 'inside', 'members']);

export function assetRoute(): PublicRoute {
  const root = packageRoot();
  const bundles = new Map<string, Promise<string>>();
  const bundle = (name: string): Promise<string> => {
    let built = bundles.get(name);
    if (built === undefined) {
      // esbuild loads with the first script asked for, not at the central's start.
      built = import('esbuild')
        .then(({ build }) =>
          build({
            entryPoints: [join(root, 'console', 'client', `${name}.ts`)],
            bundle: true,
            write: false,
            format: 'esm',
            target: 'es2020',
            minify: true,
            logLevel: 'silent',
          }),
        )
        .then((result) => result.outputFiles[0]!.text);
      // A failed build is retried on the next request instead of being remembered.
      built.catch(() => bundles.delete(name));
      bundles.set(name, built);
    }
    return built;
  };
  const css = readFileSync(join(root, 'console', 'assets', 'console.css'), 'utf8');
  return {
    path: '/assets/{file}',
    access: 'public',
    async handle({ params }) {
      const file = params.file ?? '';
      if (file === 'console.css') return { status: 200, text: css, contentType: 'text/css; charset=utf-8' };
      const script = /^([a-z]+)\.js$/.exec(file)?.[1];
      if (script !== undefined && clientScripts.has(script)) return { status: 200, text: await bundle(script), contentType: 'text/javascript; charset=utf-8' };
      throw notFound(`no such asset: ${file.slice(0, 100)}`);
    },
  };
}
