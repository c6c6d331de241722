/**
 * The dashboard's Content-Security-Policy (CSP Level 3): only this origin's script and style, no
 * plugins, no framing (clickjacking), forms post only here, no <base> to redirect relative URLs;
 * scripts may fetch from this origin only (the template preview posts its form for a fresh
 * rendering). No inline script or style anywhere.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The prompt page's policy: the dashboard's, and its own preview frames. */
export const PROMPT_PAGE_CSP = `${DASHBOARD_CSP}; frame-src 'self'`;

/**
 * A prompt preview frame's policy: the dashboard's, framed by its own pages only (clickjacking
 * stays out), and images from any https host (the shop's logo; the settings accept only https logos).
 */
export const PREVIEW_FRAME_CSP = DASHBOARD_CSP.replace("img-src 'self' data:", "img-src 'self' data: https:").replace("frame-ancestors 'none'", "frame-ancestors 'self'");
