/**
 * The dashboard's one stylesheet, as a string so the Worker needs no file system. Served from
 * /dashboard/assets/ under a content-hashed name (the page CSP allows `style-src 'self'` only, so
 * no page carries a style attribute or element).
 */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light;
  --bg: #f6f7f9;
  --surface: #ffffff;
  --text: #1a1f2b;
  --muted: #5b6475;
  --border: #dfe3ea;
  --border-strong: #c5ccd8;
  --accent: #4f46e5;
  --accent-hover: #4338ca;
  --accent-soft: #eef0ff;
  --danger: #b42318;
  --danger-soft: #fef3f2;
  --success: #067647;
  --success-soft: #ecfdf3;
  --focus: #4f46e5;
  --radius: 8px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.08);
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
/* The skip link's target takes focus only to move the reading position; it is not a control. */
main[tabindex="-1"]:focus { outline: none; }
h1, h2, h3 { line-height: 1.25; margin: 0 0 0.5rem; }
h1 { font-size: 1.5rem; font-weight: 650; letter-spacing: -0.01em; }
h2 { font-size: 1.1rem; font-weight: 620; }
p { margin: 0 0 0.75rem; }
code, pre, textarea.mono { font-family: var(--mono); font-size: 0.85rem; }
code { overflow-wrap: anywhere; }

.skip-link {
  position: absolute; left: 0.75rem; top: -3rem; z-index: 10;
  background: var(--surface); color: var(--accent); padding: 0.5rem 0.9rem;
  border: 1px solid var(--border-strong); border-radius: var(--radius);
}
.skip-link:focus { top: 0.75rem; }

.topbar { background: var(--surface); border-bottom: 1px solid var(--border); }
.topbar-inner {
  max-width: 960px; margin: 0 auto; padding: 0.7rem 1.25rem;
  display: flex; align-items: center; gap: 1rem; flex-wrap: wrap;
}
.brand { font-weight: 700; color: var(--text); text-decoration: none; letter-spacing: -0.01em; display: inline-flex; align-items: center; gap: 0.5rem; }
.brand-mark { width: 22px; height: 22px; border-radius: 6px; background: var(--accent); display: inline-block; }
.site-name { color: var(--muted); font-size: 0.9rem; display: inline-flex; align-items: center; gap: 0.5rem; min-width: 0; }
.site-name strong { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.topbar-account { margin-left: auto; display: flex; align-items: center; gap: 0.75rem; flex-wrap: wrap; font-size: 0.9rem; }
.topbar-account .who { color: var(--muted); overflow-wrap: anywhere; text-decoration: none; }
.topbar-account .who:hover { color: var(--text); text-decoration: underline; }
.topbar-account form { margin: 0; }

.subnav { background: var(--surface); border-bottom: 1px solid var(--border); }
.subnav ul { max-width: 960px; margin: 0 auto; padding: 0 1.25rem; list-style: none; display: flex; gap: 1.25rem; overflow-x: auto; }
.subnav a { display: inline-block; padding: 0.6rem 0 0.55rem; color: var(--muted); text-decoration: none; border-bottom: 2px solid transparent; font-size: 0.92rem; }
.subnav a:hover { color: var(--text); }
.subnav a[aria-current="page"] { color: var(--text); border-bottom-color: var(--accent); font-weight: 600; }

main { display: block; max-width: 960px; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
.page-header { margin-bottom: 1.5rem; }
.page-header p { color: var(--muted); margin: 0; }

.card {
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius);
  box-shadow: var(--shadow); padding: 1.25rem 1.4rem; margin-bottom: 1.25rem;
}
.card > h2 { margin-bottom: 0.35rem; }
.card > :last-child, .snippet > :last-child, .card .steps:last-child { margin-bottom: 0; }
.card .lede { color: var(--muted); margin-bottom: 1rem; }
.card-footer { border-top: 1px solid var(--border); margin: 1.25rem -1.4rem -1.25rem; padding: 0.9rem 1.4rem; background: #fafbfc; border-radius: 0 0 var(--radius) var(--radius); display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }

.snippet { margin: 0 0 1rem; }
.snippet-label { display: flex; align-items: center; justify-content: space-between; gap: 0.75rem; margin-bottom: 0.35rem; font-weight: 600; font-size: 0.9rem; }
.snippet pre {
  margin: 0; padding: 0.8rem 0.95rem; background: #0f172a; color: #e2e8f0;
  border-radius: 6px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere;
}
.snippet .hint { color: var(--muted); font-size: 0.88rem; margin: 0.4rem 0 0; }

.button {
  display: inline-flex; align-items: center; justify-content: center; gap: 0.4rem;
  font: inherit; font-weight: 600; font-size: 0.92rem; line-height: 1.2;
  padding: 0.55rem 1rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; min-height: 2.4rem;
}
.button:hover { background: var(--accent-hover); border-color: var(--accent-hover); color: #fff; }
.button.secondary { background: var(--surface); color: var(--text); border-color: var(--border-strong); }
.button.secondary:hover { background: #f2f4f7; color: var(--text); }
.button.small { padding: 0.3rem 0.7rem; font-size: 0.82rem; min-height: 2rem; }
.button.danger { background: var(--surface); color: var(--danger); border-color: #f1b5ae; }
.button.danger:hover { background: var(--danger-soft); }
.button.wide { width: 100%; }
.link-button { background: none; border: 0; padding: 0.25rem 0; font: inherit; color: var(--accent); cursor: pointer; text-decoration: underline; text-underline-offset: 2px; }
.link-button:hover { color: var(--accent-hover); }

.field { margin-bottom: 1rem; }
.field label { display: block; font-weight: 600; font-size: 0.9rem; margin-bottom: 0.3rem; }
.field .help { color: var(--muted); font-size: 0.85rem; margin: 0.3rem 0 0; }
.field label .meta { font-weight: 400; }
input[type="email"], input[type="password"], input[type="text"], textarea {
  width: 100%; font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.55rem 0.7rem;
}
textarea { min-height: 7rem; resize: vertical; }
input:focus-visible, textarea:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
input[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--danger); }
input[readonly] { background: #f2f4f7; color: var(--muted); }
.field-error { color: var(--danger); font-size: 0.87rem; margin: 0.3rem 0 0; }

.notice { border-radius: 6px; padding: 0.7rem 0.9rem; margin-bottom: 1rem; border: 1px solid; }
.notice.error { background: var(--danger-soft); border-color: #fecdca; color: #7a271a; }
.notice.success { background: var(--success-soft); border-color: #abefc6; color: #05603a; }
.notice.info { background: var(--accent-soft); border-color: #c7cbfd; color: #2d2a8f; }
.notice ul { margin: 0.35rem 0 0; padding-left: 1.2rem; }
.notice p:last-child { margin-bottom: 0; }

.origin-list { list-style: none; margin: 0 0 1rem; padding: 0; border: 1px solid var(--border); border-radius: 6px; }
.origin-list li { padding: 0.55rem 0.8rem; font-family: var(--mono); font-size: 0.88rem; overflow-wrap: anywhere; }
.origin-list li + li { border-top: 1px solid var(--border); }
.badge { display: inline-block; font-size: 0.75rem; font-weight: 600; padding: 0.1rem 0.5rem; border-radius: 999px; background: #f2f4f7; color: var(--muted); border: 1px solid var(--border); text-transform: capitalize; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.badge.current { background: var(--success-soft); color: var(--success); border-color: #abefc6; text-transform: none; }
.session-list { list-style: none; margin: 0 0 1rem; padding: 0; border: 1px solid var(--border); border-radius: 6px; }
.session-list li { padding: 0.65rem 0.85rem; }
.session-list li + li { border-top: 1px solid var(--border); }
.session-browser { font-weight: 600; }

.site-list { list-style: none; padding: 0; margin: 0; }
.site-list li + li { border-top: 1px solid var(--border); }
.site-list a { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: 0.85rem 0.2rem; text-decoration: none; color: var(--text); }
.site-list a:hover .site-title { color: var(--accent); }
.site-title { font-weight: 600; overflow-wrap: anywhere; }

.steps { margin: 0 0 1rem; padding-left: 1.3rem; }
.steps li { margin-bottom: 0.4rem; }

.auth-main { max-width: 440px; padding-top: 1.5rem; }
.auth-brand { display: flex; justify-content: center; padding-top: 3.5rem; font-size: 1.1rem; }
.auth-card { padding: 1.75rem 1.75rem 1.5rem; }
.auth-card h1 { font-size: 1.35rem; }
.auth-card .lede { color: var(--muted); }
.auth-footer { text-align: center; color: var(--muted); font-size: 0.87rem; margin-top: 1.25rem; }

.meta { color: var(--muted); font-size: 0.87rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

@media (max-width: 600px) {
  main { padding: 1.25rem 1rem 3rem; }
  .topbar-inner { padding: 0.6rem 1rem; gap: 0.5rem 1rem; }
  .topbar-account { margin-left: 0; width: 100%; justify-content: space-between; }
  .subnav ul { padding: 0 1rem; }
  .card { padding: 1rem; }
  .card-footer { margin: 1rem -1rem -1rem; padding: 0.8rem 1rem; }
  .auth-main { padding-top: 1rem; }
  .auth-brand { padding-top: 1.75rem; }
  .auth-card { padding: 1.25rem; }
  h1 { font-size: 1.3rem; }
}

/* --- Overview page (pages/overview-pages.ts, charts.ts) --- */
.range-card { padding-top: 1rem; padding-bottom: 1rem; }
.range-form { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: flex-start; }
.range-form .field { margin-bottom: 0.5rem; }
.range-form .field-error { max-width: 22rem; }
.range-submit { padding-top: 1.65rem; }
input[type="date"] {
  font: inherit; color: var(--text); background: var(--surface); min-height: 2.4rem;
  border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.4rem 0.6rem;
}
input[type="date"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
input[type="date"][aria-invalid="true"] { border-color: var(--danger); }
.range-presets ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.5rem; }
.range-presets a { display: inline-block; padding: 0.3rem 0.75rem; border: 1px solid var(--border-strong); border-radius: 999px; font-size: 0.87rem; text-decoration: none; color: var(--text); }
.range-presets a:hover { background: #f2f4f7; }
.range-presets a[aria-current="true"] { background: var(--accent-soft); border-color: var(--accent); color: #2d2a8f; font-weight: 600; }

.stat-tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 1rem; margin: 0 0 1.25rem; }
.stat-tile { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 0.9rem 1rem; }
.stat-tile dt { color: var(--muted); font-size: 0.85rem; }
.stat-tile dd { margin: 0.2rem 0 0; }
.stat-value { display: block; font-size: 1.6rem; font-weight: 680; letter-spacing: -0.02em; font-variant-numeric: tabular-nums; }
.stat-detail { display: block; color: var(--muted); font-size: 0.85rem; overflow-wrap: anywhere; }

.chart { margin: 0.5rem 0 0.75rem; }
.chart-svg { display: block; width: 100%; height: auto; overflow: visible; }
.chart-narrow { display: none; }
.chart-legend { list-style: none; margin: 0 0 0.5rem; padding: 0; display: flex; flex-wrap: wrap; gap: 0.35rem 1.1rem; font-size: 0.87rem; color: var(--text); }
.chart-legend li { display: inline-flex; align-items: center; gap: 0.4rem; }
.legend-swatch { flex: none; }
.chart-heading, .table-heading { font-size: 1rem; margin: 1.5rem 0 0.4rem; }
.chart-numbers { margin: 0.25rem 0 0.5rem; }
.chart-numbers summary { cursor: pointer; color: var(--accent); font-size: 0.9rem; font-weight: 600; padding: 0.25rem 0; }
.chart-numbers[open] summary { margin-bottom: 0.5rem; }
.table-scroll { overflow-x: auto; border: 1px solid var(--border); border-radius: 6px; }
.table-scroll:focus-visible { outline-offset: 1px; }
table.figures { border-collapse: collapse; width: 100%; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
table.figures th, table.figures td { padding: 0.45rem 0.7rem; text-align: left; border-bottom: 1px solid var(--border); white-space: nowrap; }
table.figures thead th { background: #f8f9fb; font-weight: 600; color: var(--muted); font-size: 0.82rem; }
table.figures tbody th { font-weight: 500; }
table.figures tbody tr:last-child th, table.figures tbody tr:last-child td { border-bottom: 0; }
table.figures tfoot th, table.figures tfoot td { font-weight: 650; border-top: 2px solid var(--border-strong); border-bottom: 0; }
table.figures .num { text-align: right; }
table.per-trigger tbody th { white-space: normal; overflow-wrap: anywhere; min-width: 9rem; }
.empty-note { color: var(--muted); background: #f8f9fb; border: 1px dashed var(--border-strong); border-radius: 6px; padding: 0.8rem 1rem; }
.empty-state .steps { margin-top: 0.5rem; }

.lift-list { list-style: none; margin: 0; padding: 0; }
.lift-item { padding: 0.9rem 0; }
.lift-item + .lift-item { border-top: 1px solid var(--border); }
.lift-item:last-child { padding-bottom: 0; }
.lift-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.75rem; margin-bottom: 0.3rem; }
.lift-head h3 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
.lift-reading { font-size: 1rem; margin-bottom: 0.3rem; }
.verdict { font-size: 0.78rem; font-weight: 650; padding: 0.12rem 0.55rem; border-radius: 999px; border: 1px solid; }
.verdict-more { background: var(--success-soft); color: var(--success); border-color: #abefc6; }
.verdict-fewer { background: var(--danger-soft); color: var(--danger); border-color: #fecdca; }
.verdict-unclear { background: #fffaeb; color: #93370d; border-color: #fedf89; }
.verdict-not_enough_data { background: #f2f4f7; color: var(--muted); border-color: var(--border); }

@media (max-width: 760px) {
  .stat-tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.75rem; }
}
@media (max-width: 600px) {
  .chart-wide { display: none; }
  .chart-narrow { display: block; }
  .stat-value { font-size: 1.35rem; }
  .range-submit { padding-top: 0; width: 100%; }
  .range-form .field { flex: 1 1 9rem; }
  .range-form input[type="date"] { width: 100%; }
}
`;
