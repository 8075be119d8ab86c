import type { Report, ReportSection, ReportTable } from './report-model.js';

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: `<` escaped, so no string in it can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A library inlined in a <script> element: `</script` cannot end it early (inside JS strings, `<\/` is the same text). */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}

/**
 * The report as one HTML file: the libraries, the chart specs and their data
 * inlined, and a Content-Security-Policy that forbids any network request,
 * so the page works from file:// anywhere (and cannot phone home).
 * `body[data-ready]` becomes "1" once every chart has rendered ("error" if one failed).
 */
export function renderHtml(report: Report, libraries: readonly string[]): string {
  const charts = report.sections.flatMap((s) => s.charts.map((c) => ({ id: c.id, spec: c.spec })));
  const csp = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dlopt">
<title>${escapeHtml(report.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(report.title)}</h1>
<p class="meta">Made by dlopt on ${escapeHtml(report.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} from:</p>
<ul class="sources">${report.sources.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>
${report.sections.length > 1 ? `<nav>${report.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('')}</nav>` : ''}
</header>
<main>
${report.sections.map(renderSection).join('\n')}
</main>
<script type="application/json" id="dlopt-charts">${scriptJson(charts)}</script>
${libraries.map((source) => `<script>${inlineScript(source)}</script>`).join('\n')}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function renderSection(section: ReportSection): string {
  const h = section.highlights;
  return `<section id="${section.id}">
<h2>${escapeHtml(section.title)}</h2>
${h ? `<div class="highlights"><h3>${escapeHtml(h.title)}</h3><dl>${h.items.map((i) => `<div><dt>${escapeHtml(i.label)}</dt><dd>${escapeHtml(i.value)}</dd></div>`).join('')}</dl></div>` : ''}
${section.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
${section.charts.length ? `<div class="charts">${section.charts.map((c) => `<figure><h3>${escapeHtml(c.title)}</h3><div class="chart" id="${c.id}"></div>${c.caption ? `<figcaption>${escapeHtml(c.caption)}</figcaption>` : ''}</figure>`).join('\n')}</div>` : ''}
${section.tables.map(renderTable).join('\n')}
</section>`;
}

function renderTable(table: ReportTable): string {
  const head = table.columns
    .map((c, i) =>
      table.sortable
        ? `<th class="${c.numeric ? 'num' : ''}" data-column="${i}" data-numeric="${c.numeric}" aria-sort="none"><button type="button">${escapeHtml(c.label)}</button></th>`
        : `<th class="${c.numeric ? 'num' : ''}">${escapeHtml(c.label)}</th>`,
    )
    .join('');
  const rows = table.rows
    .map(
      (r) =>
        `<tr${r.className ? ` class="${escapeHtml(r.className)}"` : ''}>${r.cells
          .map((cell, i) => `<td${table.columns[i]?.numeric ? ' class="num"' : ''} data-sort="${escapeHtml(cell.sort === null ? '' : String(cell.sort))}">${escapeHtml(cell.text)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="table-wrap"><table id="${table.id}"${table.sortable ? ' class="sortable"' : ''}><caption>${escapeHtml(table.caption)}</caption><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

const STYLE = `
:root { color-scheme: light; --ink: #222; --muted: #666; --line: #ddd; --accent: #4c78a8; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); margin: 0 auto; max-width: 1400px; padding: 0 24px 48px; }
header { border-bottom: 1px solid var(--line); padding: 16px 0 8px; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 32px 0 8px; font-size: 18px; border-bottom: 2px solid var(--accent); display: inline-block; }
h3 { font-size: 14px; margin: 0 0 6px; }
.meta, .sources { color: var(--muted); margin: 2px 0; font-size: 12px; }
.sources { padding-left: 18px; }
nav { display: flex; gap: 16px; flex-wrap: wrap; margin: 8px 0; }
nav a { color: var(--accent); }
.note { background: #fff8e5; border-left: 3px solid #f2b01e; padding: 6px 10px; margin: 6px 0; max-width: 900px; }
.highlights { background: #eef4fb; border: 1px solid #c6d8ee; border-radius: 6px; padding: 10px 14px; margin: 10px 0; display: inline-block; }
.highlights dl { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 0; }
.highlights dt { color: var(--muted); font-size: 12px; }
.highlights dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 20px; margin: 12px 0; }
figure { margin: 0; padding: 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; max-width: 100%; overflow-x: auto; }
figcaption { color: var(--muted); font-size: 12px; max-width: 520px; margin-top: 4px; }
.chart-error { color: #b00020; }
.table-wrap { overflow-x: auto; margin: 12px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: 12px; padding-bottom: 4px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th.num, td.num { text-align: right; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
tr.best td { background: #e6f2e6; font-weight: 600; }
tr.pruned td { color: var(--muted); }
tr.fail td { color: #b00020; }
@media print { .vega-actions { display: none; } figure { break-inside: avoid; } }
`;

/** Runs in the page: draws the charts, then makes sortable tables sortable. */
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var charts = JSON.parse(document.getElementById('dlopt-charts').textContent);
  var options = { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };
  var drawn = charts.map(function (c) {
    return vegaEmbed('#' + c.id, c.spec, options).catch(function (error) {
      var el = document.getElementById(c.id);
      el.textContent = 'This chart could not be drawn: ' + error.message;
      el.className += ' chart-error';
      console.error('chart ' + c.id + ': ' + error.message);
      throw error;
    });
  });
  Promise.all(drawn).then(
    function () { document.body.dataset.ready = '1'; },
    function () { document.body.dataset.ready = 'error'; }
  );

  function key(cell, numeric) {
    var raw = cell.getAttribute('data-sort');
    if (raw === '') return null;
    return numeric ? Number(raw) : raw;
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var headers = table.querySelectorAll('th[data-column]');
    Array.prototype.forEach.call(headers, function (th) {
      th.querySelector('button').addEventListener('click', function () {
        var column = Number(th.getAttribute('data-column'));
        var numeric = th.getAttribute('data-numeric') === 'true';
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(headers, function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column], numeric), y = key(b.cells[column], numeric);
          if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;  // empty cells last either way
          var order = numeric ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
`;
