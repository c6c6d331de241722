/** A browser file the server serves as-is (`/pushcart.js`, `/pushcart-sw.js`), built before any request is served. */
export interface ClientBundle {
  body: string;
  /** Strong ETag (quoted), derived from a SHA-256 of the body. */
  etag: string;
  /** First 10 hex digits of that hash: the `/pushcart.<version>.js` URL segment. */
  version: string;
}

/** The snippet and the service worker, as the server serves them (Node builds them at start, the Workers build step at deploy). */
export interface ClientScripts {
  snippet: ClientBundle;
  serviceWorker: ClientBundle;
  /** The dashboard's prompt preview: the snippet's own `showPrompt`, drawn in the prompt page's preview frames. */
  promptPreview: ClientBundle;
}
