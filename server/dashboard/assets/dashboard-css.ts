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
.subnav ul { max-width: 960px; margin: 0 auto; padding: 0 1.25rem; list-style: none; display: flex; flex-wrap: wrap; column-gap: 1.25rem; row-gap: 0; }
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
.field .help { color: var(--muted); font-size: 0.85rem; margin: 0.3rem 0 0; overflow-wrap: anywhere; }
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
.device-list { list-style: none; margin: 0 0 1rem; padding: 0; border: 1px solid var(--border); border-radius: 6px; }
.device-list li { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; padding: 0.65rem 0.85rem; }
.device-list li + li { border-top: 1px solid var(--border); }
.device-list form { margin: 0; }
.device-name { font-weight: 600; }
.test-push-enable { margin: 1rem 0 0; }
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

/* --- Subscribers pages (list, detail, erase): pages/subscriber-pages.ts --- */
.mono { font-family: var(--mono); font-size: 0.85rem; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.filter-form { display: grid; grid-template-columns: minmax(12rem, 2fr) repeat(4, minmax(7rem, 1fr)) auto; gap: 0 0.75rem; align-items: start; margin-bottom: 0.5rem; }
.filter-form .field { margin-bottom: 0.75rem; min-width: 0; }
.filter-form .help { font-size: 0.8rem; }
.filter-actions { display: flex; gap: 0.5rem; padding-top: 1.55rem; }
input[type="search"], select { width: 100%; font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.55rem 0.7rem; min-height: 2.75rem; }
input[type="search"]:focus-visible, select:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
.table-region { overflow-x: auto; max-width: 100%; border: 1px solid var(--border); border-radius: 6px; margin-bottom: 1rem; }
.table-region:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.data-table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
.data-table th, .data-table td { text-align: left; vertical-align: top; padding: 0.55rem 0.7rem; border-bottom: 1px solid var(--border); }
.data-table thead th { background: #fafbfc; color: var(--muted); font-size: 0.8rem; font-weight: 600; white-space: nowrap; }
.data-table tbody tr:last-child > * { border-bottom: 0; }
.data-table tbody th { font-weight: 500; }
.data-table .id-cell { min-width: 7.5rem; }
.data-table .tags-cell { min-width: 7rem; }
.sub-line { display: block; color: var(--muted); font-size: 0.82rem; }
.subscriber-table { font-size: 0.86rem; }
.subscriber-table th, .subscriber-table td { padding: 0.5rem 0.5rem; }
.data-table .current-row > * { background: var(--accent-soft); }
.data-table .detail { max-width: 28rem; overflow-wrap: anywhere; }
.tag-list { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem; }
.tag { display: inline-block; font-size: 0.78rem; padding: 0.05rem 0.45rem; border-radius: 4px; background: #f2f4f7; border: 1px solid var(--border); overflow-wrap: anywhere; }
.badge[class*="status-"], .badge[class*="delivery-"] { white-space: nowrap; text-transform: none; }
.badge.status-active, .badge.delivery-sent { background: var(--success-soft); color: var(--success); border-color: #abefc6; }
.badge.status-expired, .badge.status-unsubscribed, .badge.delivery-suppressed, .badge.delivery-held_out { background: #f2f4f7; color: #475467; }
.badge.delivery-failed, .badge.delivery-expired { background: var(--danger-soft); color: var(--danger); border-color: #fecdca; }
.badge.delivery-queued, .badge.delivery-sending { background: var(--accent-soft); color: #3730a3; border-color: #c7cbfd; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin-bottom: 0.75rem; }
.empty-state { text-align: center; padding: 2rem 1rem; }
.empty-state h2 { font-size: 1.1rem; }
.empty-state p { color: var(--muted); max-width: 34rem; margin-left: auto; margin-right: auto; }
.page-header .count { color: var(--text); font-size: 1.05rem; }
.breadcrumb { margin: 0 0 0.5rem; font-size: 0.9rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.4rem 1rem; margin: 0; }
.facts dt { font-weight: 600; font-size: 0.9rem; }
.facts dd { margin: 0; min-width: 0; }
.id-list { list-style: none; margin: 0; padding: 0; }
.action-row { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; }
.action-row form { margin: 0; }
.check-field { display: flex; gap: 0.6rem; align-items: flex-start; margin: 1.25rem 0 0; padding: 0.8rem; border: 1px solid #fecdca; background: var(--danger-soft); border-radius: 6px; }
.check-field input { width: 1.15rem; height: 1.15rem; margin-top: 0.15rem; flex: none; }
.check-field label { font-weight: 600; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0.5rem; margin: 0 0 1rem; }
.counts div { border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem 0.8rem; }
.counts dt { color: var(--muted); font-size: 0.85rem; }
.counts dd { margin: 0; font-size: 1.3rem; font-weight: 700; }
@media (max-width: 900px) {
  .filter-form { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .filter-search, .filter-actions { grid-column: 1 / -1; }
  .filter-actions { padding-top: 0; margin-bottom: 0.75rem; }
}
@media (max-width: 600px) {
  /* Columns keep a readable width; the table region scrolls sideways instead of the page. */
  .table-region .data-table { min-width: 40rem; }
  .table-region .data-table .detail { min-width: 12rem; }
  .facts { grid-template-columns: 1fr; }
  .facts dd { margin-bottom: 0.5rem; }
}
/* Install page: installation check */
.check-list { list-style: none; margin: 0; padding: 0; border: 1px solid var(--border); border-radius: 6px; }
.check-list > li { padding: 0.7rem 0.85rem; overflow-wrap: anywhere; }
.check-list > li + li { border-top: 1px solid var(--border); }
.check-headline { margin: 0; }
.check-advice { margin: 0.4rem 0 0; padding-left: 1.2rem; color: var(--muted); }
.check-advice li + li { margin-top: 0.25rem; }
.check-add { margin-top: 0.6rem; }
.badge.check-badge { text-transform: none; margin-right: 0.25rem; }
.badge.check-badge.working { background: var(--success-soft); color: var(--success); border-color: #abefc6; }
.badge.check-badge.waiting { background: var(--accent-soft); color: #2d2a8f; border-color: #c7cbfd; }
.badge.check-badge.problem { background: var(--danger-soft); color: #7a271a; border-color: #fecdca; }
/* --- Automations and templates pages (pages/automation-pages.ts) --- */
.automation-head { display: flex; align-items: center; gap: 0.6rem; }
.automation-head h2 { margin: 0; }
.badge.on { background: var(--success-soft); color: var(--success); border-color: #abefc6; }
.badge.off { background: #f2f4f7; color: var(--muted); }
.automation .lede { margin-top: 0.35rem; }
.automation-grid { display: grid; grid-template-columns: minmax(0, 1fr) 250px; gap: 1.5rem; align-items: start; }
.automation-form { min-width: 0; }
.automation-form .card-footer { margin: 1.25rem 0 0; padding: 0.9rem 0 0; background: none; border-radius: 0; }
.card > .automation-form:last-child .card-footer, .card > .automation-grid .card-footer { border-top: 1px solid var(--border); }
.group-title { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 2rem 0 0.75rem; }
.figures { background: #f8f9fb; border: 1px solid var(--border); border-radius: var(--radius); padding: 0.9rem 1rem; }
.figures h3 { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 0 0 0.6rem; font-weight: 650; }
.figures dl { display: grid; grid-template-columns: 1fr 1fr; gap: 0.7rem 0.75rem; margin: 0 0 0.8rem; }
.figures dt { font-size: 0.8rem; color: var(--muted); }
.figures dd { margin: 0; font-size: 1.15rem; font-weight: 650; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.figures .rate { font-size: 0.78rem; font-weight: 500; color: var(--muted); }
.figures .lift { font-size: 0.84rem; color: var(--text); margin: 0; border-top: 1px solid var(--border); padding-top: 0.65rem; }
fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
fieldset.step { border-left: 3px solid var(--accent-soft); padding: 0.1rem 0 0.1rem 0.9rem; margin: 0 0 1rem; }
fieldset legend { font-weight: 650; font-size: 0.9rem; padding: 0; margin-bottom: 0.5rem; }
/* One occasion of the occasions form: a box of its own, so a list of them reads as separate items. */
fieldset.occasion { border: 1px solid var(--border); border-radius: var(--radius); padding: 0.6rem 1rem 0.1rem; margin: 0 0 1rem; }
fieldset.occasion > legend { font-size: 1rem; padding: 0 0.35rem; margin: 0 0 0 -0.35rem; }
.occasion .group-help { color: var(--muted); font-size: 0.85rem; margin: 0 0 0.75rem; }
.occasion-text + .occasion-text { border-top: 1px dashed var(--border-strong); padding-top: 0.75rem; }
.field.check { display: grid; grid-template-columns: auto 1fr; column-gap: 0.55rem; align-items: center; }
.field.check input { width: 1.1rem; height: 1.1rem; margin: 0; accent-color: var(--accent); }
.field.check label { margin: 0; font-weight: 600; }
.field.check .help, .field.check .field-error { grid-column: 2; }
.input-row { display: flex; align-items: center; gap: 0.55rem; }
.input-row .suffix { color: var(--muted); font-size: 0.88rem; white-space: nowrap; }
.field-short .input-row input { max-width: 7.5rem; }
.field-medium .input-row input { max-width: 18rem; }
input:disabled, textarea:disabled, select:disabled { background: #f2f4f7; color: var(--muted); }
.field-pair { display: flex; gap: 0 1.25rem; flex-wrap: wrap; }
.field-pair > .field { flex: 0 1 15rem; min-width: 0; }
.template-form .field-pair > .field { flex: 1 1 10rem; }
select { font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.5rem 0.6rem; max-width: 100%; }
select:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
.inline-form { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-start; }
.inline-form .field:last-child { align-self: flex-start; padding-top: 1.65rem; }
.inline-form .field-short input { max-width: 9rem; }

.template-key .meta code { font-size: 0.8rem; }
.locale-list { list-style: none; margin: 0.6rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.5rem; }
.locale-list a { display: inline-flex; align-items: center; gap: 0.55rem; padding: 0.45rem 0.7rem; border: 1px solid var(--border-strong); border-radius: 6px; text-decoration: none; color: var(--text); }
.locale-list a:hover { border-color: var(--accent); background: var(--accent-soft); }
.locale-list .locale { font-family: var(--mono); font-weight: 600; }
.locale-list .edit { color: var(--accent); font-size: 0.85rem; }
.badge.custom { background: var(--accent-soft); color: #3730a3; border-color: #c7cbfd; text-transform: none; }
.badge.builtin { text-transform: none; }
.crumb { margin: 0 0 0.25rem; font-size: 0.9rem; }
.locale-tag { font-family: var(--mono); font-size: 0.95rem; font-weight: 600; color: var(--muted); background: #f2f4f7; border: 1px solid var(--border); border-radius: 6px; padding: 0.05rem 0.45rem; vertical-align: middle; }
.template-layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.25rem; align-items: start; }
.template-layout .card { margin-bottom: 0; }
.template-layout + .card { margin-top: 1.25rem; }
.buttons-fieldset legend .meta { font-weight: 400; }
.table-scroll { overflow-x: auto; }
table.placeholders { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
table.placeholders th { text-align: left; font-size: 0.8rem; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--border-strong); padding: 0.4rem 0.6rem 0.4rem 0; }
table.placeholders td { border-bottom: 1px solid var(--border); padding: 0.5rem 0.6rem 0.5rem 0; vertical-align: top; }
table.placeholders td:first-child { white-space: nowrap; }

.budget { border-radius: 6px; padding: 0.6rem 0.8rem; margin-bottom: 1rem; border: 1px solid var(--border); background: #f8f9fb; font-size: 0.88rem; }
.budget p { margin: 0 0 0.4rem; }
.budget.over { background: var(--danger-soft); border-color: #fecdca; color: #7a271a; }
.budget meter { width: 100%; height: 0.6rem; display: block; }
#notification-preview[aria-busy="true"] .looks { opacity: 0.7; transition: opacity 0.2s; }
.looks { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.1rem; }
.look { margin: 0; min-width: 0; }
.look figcaption { font-size: 0.78rem; font-weight: 650; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; margin-bottom: 0.45rem; }
.look-note { font-size: 0.8rem; color: var(--muted); margin: 0.4rem 0 0; }
.toast { box-sizing: border-box; width: 100%; font-family: "Segoe UI", system-ui, -apple-system, Roboto, sans-serif; overflow: hidden; overflow-wrap: anywhere; }
.toast p { margin: 0; }
.n-title { font-weight: 600; }
.n-body { white-space: pre-line; }
.n-image { display: block; width: 100%; height: auto; aspect-ratio: 2 / 1; object-fit: cover; }
.site-icon { flex: none; display: inline-flex; align-items: center; justify-content: center; font-weight: 700; color: #fff; background: linear-gradient(135deg, #4f46e5, #7c3aed); }
.chrome-logo { flex: none; display: inline-block; width: 16px; height: 16px; border-radius: 50%; background: radial-gradient(circle, #1a73e8 0 28%, #fff 29% 38%, transparent 39%), conic-gradient(from -60deg, #ea4335 0 120deg, #fbbc04 120deg 240deg, #34a853 240deg 360deg); }
/* Windows 11 toast, light theme */
.toast.win { background: #f9f9f9; color: #1b1b1b; border: 1px solid #e0e0e0; border-radius: 8px; box-shadow: 0 8px 24px rgba(0, 0, 0, 0.14); font-size: 13px; line-height: 1.4; max-width: 364px; }
.win-app { display: flex; align-items: center; gap: 0.5rem; padding: 10px 12px 4px; font-size: 12px; color: #444; }
.win-controls { margin-left: auto; color: #555; letter-spacing: 0.1em; }
.win-main { display: flex; gap: 12px; padding: 8px 14px 12px; }
.win-icon { width: 48px; height: 48px; border-radius: 4px; font-size: 22px; }
.win-main .n-title { font-size: 14px; }
.win-main .n-body { color: #333; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 4; overflow: hidden; }
.win-main .n-title { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }
.win-main .n-origin { color: #5f5f5f; font-size: 12px; margin-top: 2px; }
.toast.win .n-image { margin: 0 14px 12px; width: calc(100% - 28px); border-radius: 4px; }
.win-actions { display: flex; gap: 8px; padding: 0 14px 14px; }
.win-button { flex: 1 1 0; text-align: center; background: #fbfbfb; border: 1px solid #d6d6d6; border-bottom-color: #c2c2c2; border-radius: 4px; padding: 6px 8px; font-size: 13px; }
/* macOS banner */
.toast.mac { display: flex; align-items: flex-start; gap: 10px; background: rgba(246, 246, 248, 0.98); color: #1d1d1f; border: 1px solid rgba(0, 0, 0, 0.1); border-radius: 16px; box-shadow: 0 10px 30px rgba(0, 0, 0, 0.16); padding: 12px 12px 12px 10px; font-family: -apple-system, BlinkMacSystemFont, "Helvetica Neue", system-ui, sans-serif; font-size: 13px; line-height: 1.35; max-width: 364px; position: relative; }
.mac-app { width: 34px; height: 34px; border-radius: 50%; margin-top: 1px; box-shadow: 0 1px 2px rgba(0, 0, 0, 0.2); }
.toast.mac .n-text { flex: 1 1 auto; min-width: 0; }
.toast.mac .n-title, .toast.mac .n-origin { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.toast.mac .n-origin { font-weight: 500; }
.toast.mac .n-body { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; white-space: normal; color: #3c3c43; }
.mac-icon { width: 36px; height: 36px; border-radius: 6px; font-size: 17px; }
.mac-options { position: absolute; right: 10px; bottom: -1px; transform: translateY(100%); font-size: 11px; }
.toast.mac:has(.mac-options) { margin-bottom: 0; }
/* Android notification shade */
.toast.android { background: #ffffff; color: #1f1f1f; border-radius: 24px; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.18), 0 4px 14px rgba(0, 0, 0, 0.08); border: 1px solid #e3e3e3; font-family: Roboto, "Google Sans", system-ui, sans-serif; font-size: 14px; line-height: 1.4; max-width: 380px; padding: 14px 16px 12px; }
.android-head { display: flex; align-items: center; gap: 6px; font-size: 12px; color: #444746; }
.chrome-badge { width: 18px; height: 18px; border-radius: 50%; background: #0b57d0; position: relative; flex: none; }
.chrome-badge::after { content: ""; position: absolute; inset: 5px; border-radius: 50%; border: 2px solid #fff; }
.android-chevron { margin-left: auto; font-size: 12px; }
.android-main { display: flex; gap: 12px; align-items: flex-start; margin-top: 8px; }
.android-main .n-text { flex: 1 1 auto; min-width: 0; }
.android-main .n-body { color: #444746; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 7; overflow: hidden; }
.android-main .n-title { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }
.android-icon { width: 40px; height: 40px; border-radius: 50%; font-size: 17px; }
.toast.android .n-image { margin-top: 10px; border-radius: 12px; }
.android-actions { display: flex; gap: 20px; margin-top: 10px; font-weight: 500; color: #0b57d0; font-size: 14px; }

@media (max-width: 860px) {
  .template-layout { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 700px) {
  .automation-grid { grid-template-columns: minmax(0, 1fr); gap: 1rem; }
  .automation-grid .figures { order: -1; }
}

/* Keys, Team and Audit log pages (pages/team-pages.ts): on a phone their tables stack into cards. */
.stacked-table { margin: 0 0 1rem; font-size: 0.92rem; }
.data-table th { text-align: left; font-size: 0.8rem; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--border-strong); }
.data-table td { padding: 0.6rem; border-bottom: 1px solid var(--border); vertical-align: top; overflow-wrap: anywhere; }
.data-table tr.revoked td { color: var(--muted); }
.data-table code { font-size: 0.85rem; }
.revoke-link { margin-left: 0.5rem; font-size: 0.88rem; }
.data-table .badge { white-space: nowrap; }
.inline-form { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin: 0; }
.data-table select, .field select { font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.4rem 0.6rem; min-height: 2.25rem; }
.field select { width: 100%; max-width: 20rem; }
.role-help { padding-left: 1.1rem; }
.plain-list { list-style: none; margin: 0; padding: 0; border: 1px solid var(--border); border-radius: 6px; }
.plain-list li { display: flex; justify-content: space-between; align-items: center; gap: 0.75rem; padding: 0.65rem 0.85rem; overflow-wrap: anywhere; }
.plain-list li + li { border-top: 1px solid var(--border); }
.plain-list form { margin: 0; flex: none; }
.audit-list { list-style: none; margin: 0 0 1rem; padding: 0; }
.audit-list li { display: grid; grid-template-columns: 11rem 1fr; gap: 0.25rem 1rem; padding: 0.6rem 0; border-bottom: 1px solid var(--border); }
.audit-time { color: var(--muted); font-size: 0.85rem; font-variant-numeric: tabular-nums; }
.audit-words { overflow-wrap: anywhere; }
.pager:empty { display: none; }
@media (max-width: 600px) {
  .stacked-table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .stacked-table tr { display: block; border-bottom: 1px solid var(--border); padding: 0.5rem 0; }
  .stacked-table td { display: block; border: 0; padding: 0.25rem 0; }
  .stacked-table td::before { content: attr(data-label); display: block; color: var(--muted); font-size: 0.78rem; font-weight: 600; }
  .audit-list li { grid-template-columns: 1fr; }
}

/* --- Soft prompt page (pages/prompt-pages.ts) --- */
main:has(.prompt-layout) { max-width: 1240px; }
.prompt-layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 560px); gap: 1.5rem; align-items: start; }
.prompt-preview { position: sticky; top: 1rem; margin-bottom: 0; }
.prompt-preview .meta { margin-bottom: 0.9rem; }
.preview-figure { margin: 0 0 1rem; }
.preview-figure:last-child { margin-bottom: 0; }
.preview-figure figcaption { color: var(--muted); font-size: 0.82rem; margin-top: 0.4rem; text-align: center; }
.preview-box { display: flex; justify-content: center; }
.preview-stage {
  --preview-scale: 0.5;
  position: relative; overflow: hidden; flex: none;
  border: 1px solid var(--border-strong); border-radius: 10px; background: #f4f5f7;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 8px 24px -12px rgba(16, 24, 40, 0.25);
}
.preview-stage.desktop { width: var(--preview-width, 512px); height: var(--preview-height, 300px); }
.preview-stage.phone { --preview-scale: 0.45; --preview-max-scale: 0.45; width: var(--preview-width, 176px); height: var(--preview-height, 270px); border-radius: 18px; border-width: 4px; border-color: #1f2430; }
.preview-stage iframe { position: absolute; top: 0; left: 0; border: 0; transform-origin: 0 0; transform: scale(var(--preview-scale)); background: #f4f5f7; pointer-events: none; }
.prompt-editor fieldset.read-only { border: 0; margin: 0; padding: 0; min-width: 0; }
.prompt-editor fieldset.read-only > .card:last-child { margin-bottom: 1.25rem; }
.choice-group { border: 0; margin: 0 0 1rem; padding: 0; min-width: 0; }
.choice-group legend, .locale-texts legend { font-weight: 600; font-size: 0.9rem; margin-bottom: 0.4rem; padding: 0; }
.choice { display: flex; align-items: flex-start; gap: 0.6rem; padding: 0.5rem 0.7rem; border: 1px solid var(--border); border-radius: 6px; margin-bottom: 0.4rem; }
.choice:has(input:checked) { border-color: var(--accent); background: var(--accent-soft); }
.choice input { margin: 0.2rem 0 0; width: 1.05rem; height: 1.05rem; accent-color: var(--accent); flex: none; }
.choice label { font-weight: 600; font-size: 0.92rem; cursor: pointer; flex: 1; }
.choice-help { display: block; font-weight: 400; color: var(--muted); font-size: 0.85rem; }
.choice-group.inline { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.choice-group.inline legend { width: 100%; }
.choice-group.inline .choice { margin: 0; align-items: center; }
.choice-group.inline .choice input { margin: 0; }
.choice-group.inline .help, .choice-group.inline .field-error { width: 100%; color: var(--muted); font-size: 0.85rem; margin: 0.2rem 0 0; }
.field-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 0 1rem; }
.with-unit { display: flex; align-items: center; gap: 0.5rem; }
.with-unit input { max-width: 7rem; }
.unit { color: var(--muted); font-size: 0.88rem; }
input[type="number"], input[type="url"] {
  width: 100%; font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.55rem 0.7rem;
}
input[type="number"]:focus-visible, input[type="url"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
input.mono { font-family: var(--mono); font-size: 0.9rem; }
.colour-input { display: flex; align-items: center; gap: 0.5rem; }
.colour-input input[type="color"] { flex: none; width: 2.6rem; height: 2.6rem; padding: 0.15rem; border: 1px solid var(--border-strong); border-radius: 6px; background: var(--surface); cursor: pointer; }
.colour-input input[type="color"][hidden] { display: none; }
.contrast-readout { font-size: 0.88rem; color: var(--success); margin: -0.25rem 0 1rem; }
.contrast-readout.too-faint { color: var(--danger); font-weight: 600; }
.locale-texts { border: 1px solid var(--border); border-radius: 8px; padding: 0.9rem 1rem 0.2rem; margin: 0 0 1rem; min-width: 0; }
.locale-texts legend { padding: 0 0.35rem; margin-left: -0.35rem; display: flex; align-items: center; gap: 0.4rem; }
.locale-remove { grid-column: 1 / -1; margin: 0.2rem 0 0.9rem; color: var(--muted); font-size: 0.85rem; }
.locale-texts.added { border-style: dashed; }
.locale-texts .locale-field input { max-width: 10rem; }
.locale-texts textarea { min-height: 4.5rem; }
.locale-texts { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1rem; }
.locale-texts legend, .locale-texts .locale-field, .locale-texts .text-title, .locale-texts .text-body { grid-column: 1 / -1; }
.form-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem; }
.form-actions .meta { margin: 0; flex-basis: 100%; }
@media (max-width: 1100px) {
  .prompt-layout { grid-template-columns: minmax(0, 1fr); }
  .prompt-preview { position: static; order: -1; margin-bottom: 0; }
  .preview-stage.phone { --preview-scale: 0.7; --preview-max-scale: 0.7; width: var(--preview-width, 273px); height: var(--preview-height, 420px); }
}
@media (max-width: 600px) {
  .locale-texts { grid-template-columns: minmax(0, 1fr); }
  .preview-stage.desktop { --preview-scale: 0.3; width: var(--preview-width, 307px); height: var(--preview-height, 192px); }
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

/* Delivery health page */
.health-summary.health-good { border-left: 4px solid var(--success); }
.health-summary.health-bad { border-left: 4px solid var(--danger); }
.health-summary > p { font-size: 1rem; }
.health-list { list-style: none; margin: 0; padding: 0; }
.health-finding { padding: 0.8rem 0; overflow-wrap: anywhere; }
.health-finding + .health-finding { border-top: 1px solid var(--border); }
.health-finding:last-child { padding-bottom: 0; }
.health-finding p { margin: 0 0 0.3rem; }
.health-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.75rem; margin-bottom: 0.3rem; }
.health-head h3 { font-size: 1rem; margin: 0; }
.health-level { font-size: 0.78rem; font-weight: 650; padding: 0.12rem 0.55rem; border-radius: 999px; border: 1px solid; }
.health-problem .health-level { background: var(--danger-soft); color: var(--danger); border-color: #fecdca; }
.health-warning .health-level { background: #fffaeb; color: #93370d; border-color: #fedf89; }
.health-info .health-level { background: #f2f4f7; color: var(--muted); border-color: var(--border); }
.health-reading { font-size: 1rem; }
.health-expiry-high { color: var(--danger); font-weight: 600; }
.health-expiry-elevated { color: #93370d; font-weight: 600; }
@media (max-width: 600px) {
  table.health-weeks th, table.health-weeks td { padding-left: 0.4rem; padding-right: 0.4rem; font-size: 0.85rem; }
  table.health-weeks thead th { white-space: normal; }
}

/* --- Campaigns (pages/campaign-pages.ts) --- */
.page-header-actions { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between; gap: 0.75rem 1.5rem; }
.page-header-actions > div { min-width: 0; flex: 1 1 20rem; }
.page-header-actions h1 { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.campaign-table .num, .results-table .num { text-align: right; white-space: nowrap; }
.results-table .sub-line { display: block; color: var(--muted); font-size: 0.8rem; }
.badge.campaign-draft { text-transform: none; }
.badge.campaign-scheduled { background: var(--accent-soft); color: #3730a3; border-color: #c7cbfd; text-transform: none; }
.badge.campaign-sending { background: #fffaeb; color: #93370d; border-color: #fedf89; text-transform: none; }
.badge.campaign-sent { background: var(--success-soft); color: var(--success); border-color: #abefc6; text-transform: none; }
.badge.campaign-cancelled { background: #f2f4f7; color: var(--muted); text-transform: none; }
.composer-fields > .card { margin-bottom: 1.25rem; }
.composer-fields > .card:last-child { margin-bottom: 0; }
@media (min-width: 861px) {
  .composer-layout { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
  .composer-layout .preview-card { position: sticky; top: 1rem; }
}
input[type="datetime-local"] {
  width: 100%; max-width: 16rem; font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border-strong); border-radius: 6px; padding: 0.5rem 0.6rem;
}
input[type="datetime-local"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--focus); }
.audience-count { font-weight: 600; background: var(--accent-soft); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.5rem 0 0; }
.audience-count[aria-busy="true"] { opacity: 0.6; }
.variant-row .help { margin: 0 0 0.4rem; }
.review-count { font-size: 1.1rem; }
.warning-list { margin: 0 0 1rem; padding-left: 1.2rem; color: #93370d; }
.warning-list li + li { margin-top: 0.3rem; }
.confirm-check { background: #fffaeb; border: 1px solid #fedf89; border-radius: 6px; padding: 0.6rem 0.8rem; }
.confirm-check label { font-weight: 700; }
.send-form .form-actions { margin-top: 0.75rem; }
progress#progress-bar { width: 100%; height: 1.1rem; accent-color: var(--accent); }
.decision { border-left: 4px solid var(--accent); padding: 0.2rem 0 0.2rem 0.9rem; margin-bottom: 1rem; }
.decision p { margin: 0 0 0.5rem; }
.pick-form { margin-top: 0.5rem; }
.variant-charts .chart-heading { margin-top: 1.25rem; }
.results-table tbody th { text-transform: none; letter-spacing: 0; font-size: 0.95rem; color: var(--text); font-weight: 600; padding: 0.55rem 0.7rem; border-bottom: 1px solid var(--border); white-space: nowrap; }
.results-table caption, .campaign-table caption { caption-side: top; text-align: left; color: var(--muted); font-size: 0.85rem; padding: 0 0 0.4rem; }
.campaign-table tbody th { text-transform: none; letter-spacing: 0; font-size: 0.95rem; color: var(--text); font-weight: 600; padding: 0.55rem 0.7rem; border-bottom: 1px solid var(--border); }
.results-counts { grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); }
.variant-list { margin: 0; padding-left: 1.1rem; }
@media (max-width: 600px) {
  .table-region .campaign-table.stacked-table { min-width: 0; }
  .campaign-table.stacked-table, .campaign-table.stacked-table tbody { display: block; }
  .campaign-table.stacked-table tr { padding: 0.5rem 0.75rem; }
  .campaign-table.stacked-table tbody th { display: block; border: 0; padding: 0.25rem 0; }
  .campaign-table.stacked-table .num { text-align: left; }
  .campaign-table.stacked-table td[data-label="Sent"], .campaign-table.stacked-table td[data-label="Clicked"], .campaign-table.stacked-table td[data-label="Converted"] { display: inline-block; min-width: 5.5rem; }
}
.facts dd.mono { overflow-wrap: anywhere; }

/* The segment builder (segment-pages.ts): rows of rules, groups, the live count. */
[hidden] { display: none !important; }
.default-submit { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
.rule-rows { list-style: none; margin: 0 0 0.75rem; padding: 0; }
.rule-row { border: 1px solid var(--border); border-radius: 6px; padding: 0.75rem 0.8rem 0; margin-bottom: 0.6rem; background: var(--surface); }
.rule-head { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0 1rem; }
.rule-head .rule-type { flex: 1 1 16rem; min-width: 0; }
.rule-head .rule-type select { max-width: none; }
.rule-head .rule-negate { flex: 1 0 auto; margin-bottom: 1.5rem; }
.rule-head .rule-remove { margin-bottom: 1rem; }
.rule-inputs { display: flex; flex-wrap: wrap; gap: 0 1rem; }
.rule-inputs > .field { flex: 1 1 12rem; min-width: 0; }
.rule-inputs > .rule-input-short { flex: 0 1 14rem; }
.rule-inputs > .rule-input-short input { max-width: 7rem; }
.rule-inputs > .rule-input-wide { flex: 1 1 100%; }
.rule-group { border: 1px dashed var(--border-strong); border-radius: var(--radius); padding: 0.5rem 0.75rem 0; margin: 0 0 0.75rem; min-width: 0; background: var(--bg); }
.rule-group > legend { font-weight: 600; font-size: 0.9rem; padding: 0 0.3rem; }
.match-field select { max-width: 20rem; }
.builder-actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0 0 0.75rem; }
.segment-count { margin-top: 1rem; }
.everyone-note { margin: 0.5rem 0 0; padding: 0.5rem 0.8rem; border-radius: 6px; border: 1px solid var(--border-strong); background: var(--surface); }
.segment-words { color: var(--muted); margin: 0.5rem 0 0; overflow-wrap: anywhere; }
.segment-table .num { text-align: right; white-space: nowrap; }
.segment-table .segment-rules { min-width: 14rem; }
.segment-table tbody th { text-transform: none; letter-spacing: 0; font-size: 0.92rem; font-weight: 600; color: var(--text); border-bottom: 1px solid var(--border); padding: 0.6rem; }
.row-actions { white-space: nowrap; }
.row-actions a + a { margin-left: 0.75rem; }
.audience-part { margin: 0.25rem 0 1rem; }
.audience-part .field select { max-width: 32rem; }
@media (max-width: 40rem) {
  .segment-table.stacked-table .num { text-align: left; }
  .table-region .segment-table.stacked-table { min-width: 0; }
  .rule-row { padding: 0.6rem 0.6rem 0; }
  .rule-group { padding: 0.4rem 0.4rem 0; margin-left: -0.25rem; margin-right: -0.25rem; }
  .rule-head { gap: 0 0.5rem; }
  .rule-head .field.check { column-gap: 0.4rem; }
}
`;
