/**
 * The report's only stylesheet, inlined in the page so the file is self-contained (it is attached to
 * issues and mailed around; it must not fetch anything). System fonts only. The print rules keep charts
 * and tables whole on a page and keep bar and mark colours, which browsers drop by default.
 */
export const REPORT_CSS = `
:root { --ink: #1d1f23; --muted: #667085; --line: #e3e5e8; --soft: #f6f7f9; --accent: #0072B2; --wrong: #b42318; --mark: #ffe58a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #fff; color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 2px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 22px 0 8px; }
h4 { font-size: 13.5px; margin: 14px 0 6px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.subtitle { color: var(--muted); margin-bottom: 20px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; width: auto; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { font-weight: 600; background: var(--soft); border-bottom: 1px solid #cfd3d8; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; }
table.scores { font-size: 15px; min-width: 420px; }
table.scores td, table.scores th { padding: 7px 16px; }
table.scores td.best { font-weight: 700; }
table.scores th.overall, table.scores td.overall { border-left: 2px solid #cfd3d8; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 7px; vertical-align: baseline; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 20px 28px; align-items: start; margin: 0 0 20px; }
.grid.curve-row { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; background: #fff; break-inside: avoid; }
.card h3:first-child, .card h4:first-child { margin-top: 2px; }
.card table { width: 100%; }
.card th { white-space: normal; }
svg.curve { display: block; max-width: 100%; height: auto; }
.trend { margin: 6px 0 0; }
.trend .gain { font-weight: 600; }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 12px; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 2px 12px; background: var(--soft); }
.chip b { font-variant-numeric: tabular-nums; }
.bars { width: 100%; }
.bars td { border-bottom: 1px solid var(--soft); padding: 3px 8px; }
.bars td.cat { white-space: nowrap; max-width: 240px; overflow: hidden; text-overflow: ellipsis; }
.bar-line { display: flex; align-items: center; gap: 8px; min-width: 200px; }
.bar { flex: 1; height: 9px; background: #eef0f3; border-radius: 5px; overflow: hidden; }
.bar > span { display: block; height: 100%; border-radius: 5px; }
.bar-value { width: 46px; text-align: right; font-variant-numeric: tabular-nums; font-size: 12.5px; }
dl.config { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 0; font-size: 12.5px; }
dl.config dt { color: var(--muted); }
dl.config dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
details.item { border: 1px solid var(--line); border-left: 4px solid var(--wrong); border-radius: 6px; margin: 10px 0; background: #fff; }
details.item > summary { cursor: pointer; padding: 8px 12px; list-style-position: inside; }
details.item > .body { padding: 0 14px 12px; }
.verdict { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 4px 0 10px; font-size: 13px; }
.order-note { background: #eef4fb; border-left: 3px solid #0072B2; padding: 6px 10px; margin: 8px 0; font-size: 13px; }
.order-note.swapped { background: #fff7e6; border-left-color: #E69F00; }
.badge { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: 12px; font-weight: 600; color: #fff; background: var(--wrong); vertical-align: 1px; }
.badge.error { background: #7a5af8; }
.tag { display: inline-block; padding: 0 7px; border-radius: 4px; background: var(--soft); border: 1px solid var(--line); font-size: 12px; color: #344054; }
.trace { font-size: 13px; }
.trace .flow { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--soft); border-radius: 6px; padding: 10px 12px; margin: 6px 0; line-height: 1.55; }
.trace .thinking { color: #2b2f36; }
.trace .answer { font-weight: 650; color: #000; background: #d6e8f7; border-radius: 3px; padding: 0 2px; }
.trace .think-end { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.trace mark.injected { background: var(--mark); color: #5c3d00; border-radius: 3px; padding: 0 3px; font-weight: 600; box-shadow: inset 0 0 0 1px #e0b400; }
.trace mark.injected-think-end, .trace mark.injected-answer-prefix { background: #fde2cf; box-shadow: inset 0 0 0 1px #e8976a; color: #6b2a00; }
.trace details.prompt { margin: 6px 0; }
.trace details.prompt > summary { cursor: pointer; color: var(--muted); font-size: 12.5px; }
.trace details.prompt pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 420px; overflow: auto; background: #fbfbfc; border: 1px dashed #cfd3d8; border-radius: 6px; padding: 10px 12px; margin: 6px 0; }
.trace .omitted { display: block; color: var(--muted); font-style: italic; margin: 6px 0; }
.legend-key { font-size: 12.5px; color: var(--muted); margin: 4px 0 8px; }
.legend-key mark.injected { background: var(--mark); border-radius: 3px; padding: 0 3px; font-weight: 600; box-shadow: inset 0 0 0 1px #e0b400; color: #5c3d00; }
.legend-key .answer { font-weight: 650; background: #d6e8f7; border-radius: 3px; padding: 0 3px; color: #000; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 860px) { .grid, .grid.curve-row { grid-template-columns: minmax(0, 1fr); } main { padding: 18px; } }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .card, table, svg, details.item > summary { break-inside: avoid; }
  .trace details.prompt pre { max-height: none; overflow: visible; }
}
`;
