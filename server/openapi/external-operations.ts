import type { Operation } from './operation.ts';

const scriptHeaders = {
  ETag: 'The bytes’ tag; send it back in `If-None-Match` to get a 304.',
  'Cache-Control': 'How long the script may be kept.',
};

const script = (summary: string, description: string): Operation => ({
  summary,
  description,
  tag: 'Client scripts',
  access: 'public',
  requestHeaders: { 'If-None-Match': 'The ETag of the copy the browser has.' },
  responses: {
    200: { description: 'The script', contentType: 'text/javascript', headers: scriptHeaders },
    304: { description: 'The browser’s copy is current', headers: scriptHeaders },
  },
  errors: ['not_found'],
});

/**
 * Operations of routes declared here rather than beside their handlers (routes/client-scripts.ts
 * serves bytes built outside the app and carries no declaration), keyed `METHOD router-path`.
 */
export const EXTERNALLY_DECLARED_OPERATIONS: Record<string, Operation> = {
  'GET /pushcart.js': script('The snippet', 'The drop-in script a shop adds with `<script src=…/pushcart.js data-site=pk_…>`; revalidated after five minutes.'),
  'GET /pushcart-sw.js': script('The service worker', 'Imported by the shop’s one-line service-worker file; revalidated on every update check.'),
  'GET /:file{pushcart\\.[0-9a-f]+\\.js}': {
    ...script('The snippet at a versioned URL', 'The same bytes as `/pushcart.js` under a URL that never changes, cached for a year; an old version is 404.'),
    path: '/pushcart.{version}.js',
  },
};
