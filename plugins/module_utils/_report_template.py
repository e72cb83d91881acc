# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTML report's page: its markup and CSS, as string.Template text with ${name} placeholders.

Kept as a Python module, not an .html file beside it, so that it travels with the module_utils that use it
wherever they run (an AnsiballZ payload carries module_utils Python files only). No markup is built
anywhere else: _report_html fills these templates, escaping every value, and joins the fragments.

A placeholder named in MARKUP_PLACEHOLDERS is filled with markup made from these templates (a badge,
rows, a sparkline); every other placeholder gets text, escaped for HTML content and attribute values.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Placeholders filled with markup made from the templates below; all others are escaped text.
MARKUP_PLACEHOLDERS = ('badge', 'cards', 'cells', 'critical_on', 'details', 'heads', 'issues', 'items', 'rows', 'sections',
                       'sparkline', 'values')

PAGE = (r'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: ${status_word}</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2328;font:15px/1.45 "DejaVu Sans","Liberation Sans",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}
h2{margin:32px 0 12px;font-size:20px}
h3{margin:0;font-size:16px}
.banner{display:flex;justify-content:space-between;align-items:center;gap:16px;padding:20px 24px;border-radius:12px;color:#fff;background:var(--c)}
.banner .meta{opacity:.92;font-size:13px}
.banner .big{font-size:30px;font-weight:800;letter-spacing:.06em;white-space:nowrap}
.s-ok{--c:#1a7f37;--t:#e8f5ec}.s-warning{--c:#9a6700;--t:#fff4d6}.s-critical{--c:#c62828;--t:#fde8e8}.s-unknown{--c:#57606a;--t:#eef0f2}
.s-maintenance{--c:#0969da;--t:#ddf4ff}
.s-none{--c:#d0d7de;--t:#f6f8fa}.s-neutral{--c:#24292f;--t:#f6f8fa}
.badge{display:inline-block;min-width:86px;text-align:center;padding:2px 10px;border-radius:999px;background:var(--c);color:#fff;
font-weight:700;font-size:12px;letter-spacing:.05em;text-transform:uppercase}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-top:16px}
.card{background:#fff;border-radius:10px;padding:12px 16px;border-top:5px solid var(--c);box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card .n{font-size:28px;font-weight:800;color:var(--c)}
.card .l{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#57606a}
table{width:100%;border-collapse:collapse;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.06)}
th,td{padding:8px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.row td:first-child{border-left:5px solid var(--c)}
tr.row.s-ok td{background:#fff}tr.row:not(.s-ok) td{background:var(--t)}
.host{margin-top:18px}
.host summary{cursor:pointer;display:flex;gap:12px;align-items:center;padding:10px 14px;background:#fff;border-radius:10px;
border-left:6px solid var(--c);box-shadow:0 1px 2px rgba(0,0,0,.06);list-style:none}
.host[open] summary{border-radius:10px 10px 0 0}
.reason{max-width:520px;overflow-wrap:anywhere}
.muted{color:#57606a;font-size:13px}
.grid td.cell{text-align:center;padding:6px 4px}
.dot{display:inline-block;width:26px;height:18px;border-radius:4px;background:var(--c);color:#fff;font-size:11px;font-weight:700;line-height:18px}
.spark-cell{white-space:nowrap}.spark-now{font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.attention li{margin:6px 0;list-style:none}.attention{padding:12px 16px;margin:0;background:#fff;border-radius:10px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.note{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
footer{margin:32px 0 8px;color:#57606a;font-size:12px}
@media print{body{background:#fff}.host summary{box-shadow:none}}
</style></head><body><main>
<header class="banner s-${status}" id="overall" data-status="${status}"><div><h1>${title}</h1>'''
        r'''<div class="meta">${kind} &middot; ${generated_at} &middot; run ${run_id}</div><div class="meta">${counts}</div></div>'''
        r'''<div class="big">${status_word}</div></header>
${sections}
<footer>${title}, schema ${schema} v${schema_version}.</footer></main></body></html>
''')

BADGE = r'<span class="badge s-${status}" data-status="${status}">${label}</span>'

# ---------------------------------------------------------------- the counts
SUMMARY = r'''<section class="cards" aria-label="counts">
${cards}</section>${critical_on}'''
CARD = r'<div class="card s-${status}" data-count="${name}"><div class="n">${number}</div><div class="l">${label}</div></div>'
CRITICAL_ON = r'''
<p><strong>Critical on:</strong> ${hosts}</p>'''
IN_MAINTENANCE = r'''
<p><strong>In maintenance</strong> (no alert for these hosts):</p>
<ul class="attention" id="maintenance">
${items}</ul>'''
IN_MAINTENANCE_ITEM = r'<li data-host="${host}" data-status="maintenance"><strong>${host}</strong> ${text}</li>'

# ---------------------------------------------------------------- the hosts table
HOSTS = (r'''<h2>Hosts</h2>
<table id="hosts"><thead><tr><th>host</th><th>status</th><th class="num">ok</th><th class="num">warning</th>'''
         r'''<th class="num">critical</th><th class="num">unknown</th><th>needs attention</th></tr></thead><tbody>
${rows}</tbody></table>''')
HOST_ROW = (r'<tr class="row s-${status}" data-host="${host}" data-status="${status}"><td><strong>${host}</strong></td>'
            r'<td>${badge}</td><td class="num">${ok}</td><td class="num">${warning}</td><td class="num">${critical}</td>'
            r'<td class="num">${unknown}</td><td>${attention}</td></tr>')

# ---------------------------------------------------------------- what needs attention
ATTENTION = r'''<h2>Needs attention</h2>
<ul class="attention" id="attention">
${items}</ul>'''
ATTENTION_ITEM = r'<li data-host="${host}" data-check="${check}">${badge} <strong>${host}</strong> &middot; ${check}: ${reason}</li>'
ALL_OK = r'''<h2>Needs attention</h2>
<p class="note" id="all-ok">Every check is ok.</p>'''

# ---------------------------------------------------------------- the weekly summary
WEEKLY = (r'''<h2>Week ${start} to ${end}</h2>
<p>${reports} daily reports. Uptime <strong>${uptime}</strong>, requests <strong>${requests}</strong>,'''
          r''' security events <strong>${security_events}</strong>, <strong>${issues_count}</strong> issues.</p>
<table id="weekly"><thead><tr><th>host</th><th>worst</th><th class="num">runs</th><th class="num">uptime</th>'''
          r'''<th class="num">requests</th><th class="num">security events</th><th class="num">warning</th>'''
          r'''<th class="num">critical</th><th>latest issues</th></tr></thead><tbody>
${rows}</tbody></table>''')
WEEKLY_ROW = (r'<tr class="row s-${status}" data-weekly="${host}"><td>${host}</td><td>${badge}</td><td class="num">${runs}</td>'
              r'<td class="num">${uptime}</td><td class="num">${requests}</td><td class="num">${security_events}</td>'
              r'<td class="num">${warning}</td><td class="num">${critical}</td><td>${issues}</td></tr>')
WEEKLY_ISSUE = r'${date} ${check}: ${status}'
WEEKLY_ISSUE_SEPARATOR = r'<br>'
WEEKLY_NO_ISSUES = r'none'

# ---------------------------------------------------------------- trends
NO_TRENDS = r'''<h2>Trends</h2>
<p class="note" id="no-trends">No earlier ${kind} reports in this folder yet: trends appear from the next run on.</p>'''
TRENDS = r'''<h2>Trends</h2>
<p class="muted">The last ${runs} runs, oldest first; the last column is this run.</p>
<table id="trends" class="grid"><thead><tr><th>host</th>
${heads}</tr></thead><tbody>
${rows}</tbody></table>${values}'''
TREND_HEAD = r'<th class="num" title="${title}">${label}</th>'
TREND_OVERALL = r'<tr data-trend="overall"><td><strong>all hosts</strong></td>${cells}</tr>'
TREND_ROW = r'<tr data-trend="${host}"><td>${host}</td>${cells}</tr>'
TREND_CELL = r'<td class="cell"><span class="dot s-${status}" title="${title}">${letter}</span></td>'
VALUES = r'''
<h3 style="margin-top:18px">Measured values</h3>
<p class="muted">Each line runs from the oldest run to this one; the dot has the colour of this run's status.</p>
<table id="values"><thead><tr><th>host</th>${heads}</tr></thead><tbody>
${rows}</tbody></table>'''
VALUE_HEAD = r'<th>${check}</th>'
VALUE_ROW = r'<tr><td>${host}</td>${cells}</tr>'
VALUE_CELL = r'<td class="spark-cell" data-spark="${host}/${check}">${sparkline}<div class="spark-now">${now}</div></td>'
VALUE_NONE = r'<td class="muted">-</td>'
SPARKLINE = (r'<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}">'
             r'<polyline fill="none" stroke="#57606a" stroke-width="1.5" points="${points}"/>'
             r'<circle cx="${x}" cy="${y}" r="3.2" fill="${colour}"/></svg>')
NO_SPARKLINE = r'<span class="muted">-</span>'

# ---------------------------------------------------------------- checks per host
DETAILS = r'''<h2>Checks per host</h2>${details}'''
HOST_DETAILS = (r'''
<details class="host s-${status}" data-host="${host}"${open}><summary>${badge}<h3>${host}</h3>'''
                r'''<span class="muted">${checks} checks</span></summary>
<table><thead><tr><th>check</th><th>status</th><th class="num">value</th><th>thresholds</th><th>reason</th>'''
                r'''<th>measured at</th></tr></thead><tbody>
${rows}</tbody></table></details>''')
OPEN = r' open'
CHECK_ROW = (r'<tr class="row s-${status}" data-check="${check}"><td>${check}</td><td>${badge}</td><td class="num">${value}</td>'
             r'<td>${thresholds}</td><td class="reason">${reason}</td><td class="muted">${measured_at}</td></tr>')
NO_CHECKS = r'<tr><td colspan="6" class="muted">No results for this host.</td></tr>'
