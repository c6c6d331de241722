import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { ClientBundle, ClientScripts } from '../client-bundle.ts';
import { ApiError } from '../errors.ts';

/** The plain URL may change under a shop at any deploy: browsers revalidate it after five minutes. */
const SNIPPET_MAX_AGE_SECONDS = 300;
/** A versioned URL never changes: cache it for a year. */
const IMMUTABLE_MAX_AGE_SECONDS = 31_536_000;

/**
 * `GET /pushcart.js`, `GET /pushcart.<version>.js` and `GET /pushcart-sw.js`. ETags answer 304 to a
 * browser that has the same bytes. The service worker is revalidated on every update check
 * (no-cache), so a fix reaches every shop's worker at its next check.
 */
export function clientScriptRoutes(scripts: ClientScripts | undefined) {
  const serve = (c: Context<AppEnv>, script: ClientBundle | undefined, cacheControl: string) => {
    if (!script) throw new ApiError('not_found', 'Client scripts are not built in this deployment');
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', cacheControl);
    c.header('ETag', script.etag);
    // Shops with Cross-Origin-Embedder-Policy can still load it.
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    if (c.req.header('If-None-Match')?.split(/\s*,\s*/).includes(script.etag)) return c.body(null, 304);
    return c.body(script.body);
  };
  return new Hono<AppEnv>()
    .get('/pushcart.js', (c) => serve(c, scripts?.snippet, `public, max-age=${SNIPPET_MAX_AGE_SECONDS}`))
    .get('/pushcart-sw.js', (c) => serve(c, scripts?.serviceWorker, 'no-cache'))
    .get('/:file{pushcart\\.[0-9a-f]+\\.js}', (c) => {
      const version = c.req.param('file').slice('pushcart.'.length, -'.js'.length);
      if (version !== scripts?.snippet.version) throw new ApiError('not_found', `No snippet version ${version}; use /pushcart.js`);
      return serve(c, scripts.snippet, `public, max-age=${IMMUTABLE_MAX_AGE_SECONDS}, immutable`);
    });
}
