"""One self-contained HTML page per run: no network, no external file, readable offline.

On top the result, what changed since the baseline and the known deviations; then the rules
grouped by area with verdict badges and a filter, each failure with what was expected and
observed, the answer and the masked curl reproduction (with a copy button); then the
observations where the documents are silent, and the run's plan and spend.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from replyguard.report.common import VERDICTS, masked
from replyguard.report.sections import (
    NO_CHANGE,
    TITLES,
    Changes,
    Deviations,
    Limiter,
    ReportView,
    Spend,
    Transport,
    view,
)
from replyguard.verdicts import DESELECTED

__all__ = ["render_html", "write_html"]

_MAX_FAILURES = 5

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1f24;
 background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:1.5em;margin:.2em 0} h2{font-size:1.2em;margin:1.4em 0 .5em}
.banner{padding:12px 16px;border-radius:8px;color:#fff;font-weight:600}
.banner.ok{background:#1a7f37}.banner.failed{background:#cf222e}
.banner.could-not-judge{background:#9a6700}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8em;
 font-weight:600;color:#fff;white-space:nowrap}
.v-pass{background:#1a7f37}.v-fail{background:#cf222e}.v-error{background:#9a6700}
.v-not-tested{background:#6e7781}.v-observed{background:#0969da}.v-known{background:#8250df}
table{border-collapse:collapse;width:100%;background:#fff;margin:.3em 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}
details.rule{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:4px 0;
 padding:4px 10px}
details.rule>summary{cursor:pointer} .rid{font-family:ui-monospace,monospace;font-weight:600}
.title{color:#57606a} .failure{border-left:4px solid #cf222e;padding:4px 10px;margin:8px 0}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;
 word-break:break-all;margin:4px 0}
.curl{position:relative} .copy{float:right;cursor:pointer}
.filter{position:sticky;top:0;background:#f6f7f9;padding:8px 0;z-index:1}
.filter input[type=search]{width:280px;padding:4px}
.hidden{display:none!important} .muted{color:#57606a}
.timeline{overflow-x:auto;background:#fff;border:1px solid #d0d7de;padding:4px}
"""

_JS = """
function applyFilter(){
  const text=document.getElementById('filter-text').value.trim().toLowerCase();
  const shown=new Set([...document.querySelectorAll('.filter input.verdict')]
    .filter(b=>b.checked).map(b=>b.value));
  const leftOut=document.getElementById('show-left-out').checked;
  document.querySelectorAll('section.area').forEach(area=>{
    let visible=0;
    area.querySelectorAll('details.rule').forEach(rule=>{
      const ok=shown.has(rule.dataset.verdict)&&(leftOut||!rule.dataset.leftOut)&&
        (!text||rule.textContent.toLowerCase().includes(text));
      rule.classList.toggle('hidden',!ok); if(ok){visible++;}
    });
    area.classList.toggle('hidden',visible===0);
  });
}
function copyCurl(button){
  const text=button.parentElement.querySelector('code').textContent;
  const done=()=>{button.textContent='copied';setTimeout(()=>button.textContent='copy',1500);};
  const fallback=()=>{const t=document.createElement('textarea');t.value=text;
    document.body.appendChild(t);t.select();document.execCommand('copy');t.remove();done();};
  if(navigator.clipboard){navigator.clipboard.writeText(text).then(done,fallback);}
  else{fallback();}
}
document.addEventListener('DOMContentLoaded',()=>{
  document.querySelectorAll('.filter input').forEach(i=>i.addEventListener('input',applyFilter));
  applyFilter();
});
"""


def _e(text: Any) -> str:
    return escape("" if text is None else str(text))


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{verdict.replace(" ", "-")}">{_e(verdict)}</span>'


def render_html(report: Mapping[str, Any], secrets: Iterable[str] = ()) -> str:
    """The whole page as one string."""
    page_view = view(report)
    result = page_view.result
    body = [
        "<main>",
        "<h1>replyguard report</h1>",
        f'<p class="muted" id="target">{_e(page_view.target)}</p>',
        f'<div class="banner {result.replace(" ", "-")}" id="result">{_e(result.upper())}: '
        f"{_e(page_view.summary)}</div>",
        *_gate_lines(page_view),
        *_changes(page_view.changes),
        *_deviations(page_view.deviations),
        *_counts(page_view.counts),
        *_filter(),
        *_rules(page_view),
        *_observations(page_view.observations),
        *_limiter(page_view.limiter),
        *_transport(page_view.transport),
        *_plan(page_view.spend),
        "</main>",
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>replyguard: {_e(result)}</title><style>{_CSS}</style>"
        f"<script>{_JS}</script></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return masked(page, secrets)


def _gate_lines(page: ReportView) -> list[str]:
    line = page.gate_line
    return [f'<p id="gate-summary"><strong>{_e(line)}</strong></p>'] if line else []


def _changes(changes: Changes | None) -> list[str]:
    if changes is None:
        return []
    out = [
        f'<section id="changes"><h2>{_e(TITLES["changes"])} '
        f'<span class="muted">({_e(changes.baseline)})</span></h2>'
    ]
    rules, observations = changes.rules, changes.observations
    if rules:
        out.append("<table><tr><th>rule</th><th>before</th><th>after</th><th>change</th></tr>")
        for c in rules:
            out.append(
                f'<tr><td><a href="#rule-{_e(c["rule"])}" class="rid">{_e(c["rule"])}'
                f"</a></td><td>{_badge(c['before']) if c['before'] else 'absent'}</td>"
                f"<td>{_badge(c['after']) if c['after'] else 'absent'}</td>"
                f"<td><strong>{_e(c['change'])}</strong></td></tr>"
            )
        out.append("</table>")
    if observations:
        out.append("<table><tr><th>silent zone</th><th>probe</th><th>before</th><th>now</th></tr>")
        out += [
            f"<tr><td>{_e(o['zone'])}</td><td>{_e(o['probe'])}</td><td>{_e(o['before'])}"
            f"</td><td>{_e(o['after'])}</td></tr>"
            for o in observations
        ]
        out.append("</table>")
    if not rules and not observations:
        out.append(f"<p>{_e(NO_CHANGE)}</p>")
    if changes.not_compared:
        out.append(
            f'<p class="muted">Not compared (left out of one run on purpose): '
            f"{changes.not_compared} rules.</p>"
        )
    return [*out, "</section>"]


def _deviations(deviations: Deviations | None) -> list[str]:
    if deviations is None:
        return []
    out = [
        f'<section id="known-deviations"><h2>{_e(TITLES["deviations"])} '
        f'<span class="muted">({_e(deviations.source)})</span></h2>',
        "<table><tr><th>rule</th><th>status</th><th>reason</th><th>until</th><th>link</th></tr>",
    ]
    for d in deviations.rows:
        # Only http(s) links become anchors: the file is data, not markup.
        link_html = (
            f'<a href="{_e(d.link)}">{_e(d.link)}</a>'
            if d.link.startswith(("http://", "https://"))
            else _e(d.link)
        )
        out.append(
            f'<tr class="deviation" data-status="{_e(d.status)}"><td class="rid">'
            f"{_e(d.rule)}</td><td>{_e(d.shown)}</td><td>{_e(d.reason)}</td>"
            f"<td>{_e(d.until)}</td><td>{link_html}</td></tr>"
        )
    return [*out, "</table></section>"]


def _counts(n: Mapping[str, int]) -> list[str]:
    cells = "".join(f"<td>{_badge(v)} {n[v]}</td>" for v in VERDICTS)
    return [
        f'<section id="summary"><h2>{_e(TITLES["counts"])}</h2><table><tr>{cells}</tr></table>'
        "</section>"
    ]


def _filter() -> list[str]:
    boxes = "".join(
        f'<label><input type="checkbox" class="verdict" value="{_e(v)}" checked> '
        f"{_badge(v)}</label> "
        for v in VERDICTS
    )
    # Rules a --rules / --last-failed selection left out are hidden unless asked for.
    left_out = (
        '<label><input type="checkbox" id="show-left-out"> rules left out of this run</label>'
    )
    return [
        '<div class="filter" id="filter"><input type="search" id="filter-text" '
        f'placeholder="filter rules: id, title, text…" aria-label="filter"> {boxes}'
        f"{left_out}</div>"
    ]


def _rules(page: ReportView) -> list[str]:
    known = {
        rule: d for rule, d in page.deviation_of.items() if d.get("status") in ("known", "expired")
    }
    out = ['<section id="rules">']
    for area, items in page.areas.items():
        n: dict[str, int] = {}
        for item in items:
            n[str(item.get("verdict"))] = n.get(str(item.get("verdict")), 0) + 1
        tally = ", ".join(f"{v} {k}" for k, v in n.items())
        out.append(
            f'<section class="area" id="area-{_e(area)}"><h2>{_e(area)} '
            f'<span class="muted">({_e(tally)})</span></h2>'
        )
        out += [_rule(item, known.get(str(item.get("rule")))) for item in items]
        out.append("</section>")
    return [*out, "</section>"]


def _rule(item: Mapping[str, Any], deviation: Mapping[str, Any] | None) -> str:
    verdict = str(item.get("verdict"))
    rule = str(item.get("rule"))
    extra = ""
    if deviation:
        extra = (
            f" {_badge('known')}"
            if deviation["status"] == "known"
            else ' <span class="badge v-fail">deviation expired</span>'
        )
    left_out = ' data-left-out="1"' if item.get("reason") == DESELECTED else ""
    parts = [
        f'<details class="rule" id="rule-{_e(rule)}" data-rule="{_e(rule)}" '
        f'data-verdict="{_e(verdict)}"{left_out}'
        f"{' open' if verdict in ('fail', 'error') else ''}>",
        f'<summary>{_badge(verdict)}{extra} <span class="rid">{_e(rule)}</span> '
        f'<span class="title">{_e(item.get("title"))}</span></summary>',
    ]
    if deviation:
        parts.append(f'<p class="known-reason">known deviation: {_e(deviation["reason"])}</p>')
    if item.get("reason"):
        parts.append(f"<p>{_e(item['reason'])}</p>")
    if item.get("source"):
        parts.append(f'<p class="muted">source: {_e(item["source"])}</p>')
    failures = item.get("failures") or []
    parts += [_failure(f) for f in failures[:_MAX_FAILURES]]
    if len(failures) > _MAX_FAILURES:
        parts.append(
            f'<p class="muted">… and {len(failures) - _MAX_FAILURES} more failures '
            "(see the JSON report)</p>"
        )
    for err in item.get("errors") or []:
        parts.append(
            f'<div class="failure"><p>test <code>{_e(err.get("test"))}</code>: '
            f"{_e(err.get('exception'))}: {_e(err.get('message'))}</p></div>"
        )
    if item.get("tests"):
        parts.append(
            f'<p class="muted">tests: {_e(", ".join(item["tests"][:10]))}'
            f"{' …' if len(item['tests']) > 10 else ''}</p>"
        )
    return "\n".join([*parts, "</details>"])


def _failure(failure: Mapping[str, Any]) -> str:
    parts = [
        '<div class="failure">',
        f"<p>test <code>{_e(failure.get('test'))}</code></p>",
        f"<p><strong>expected</strong> {_e(failure.get('expected'))}</p>",
        f"<p><strong>observed</strong> {_e(failure.get('observed'))}</p>",
    ]
    if failure.get("response"):
        parts.append(
            f'<p><strong>answer</strong></p><pre class="answer">{_e(failure["response"])}</pre>'
        )
    if failure.get("curl"):
        parts.append(
            '<p><strong>reproduce</strong></p><pre class="curl"><button type="button" '
            'class="copy" onclick="copyCurl(this)">copy</button>'
            f"<code>{_e(failure['curl'])}</code></pre>"
        )
    return "\n".join([*parts, "</div>"])


def _observations(items: Sequence[Mapping[str, Any]]) -> list[str]:
    if not items:
        return []
    out = [
        f'<section id="observations"><h2>{_e(TITLES["observations"])}</h2>',
        "<table><tr><th>zone</th><th>probe</th><th>answer</th><th>contract's decision</th>"
        "<th>agrees</th></tr>",
    ]
    for o in items:
        repro = (
            (
                f'<details><summary>reproduce</summary><pre class="curl"><button type="button" '
                f'class="copy" onclick="copyCurl(this)">copy</button><code>{_e(o["curl"])}'
                "</code></pre></details>"
            )
            if o.get("curl")
            else ""
        )
        out.append(
            f"<tr><td>{_e(o.get('zone'))}</td><td>{_e(o.get('probe'))}</td>"
            f"<td>{_e(o.get('answer'))}{repro}</td><td>{_e(o.get('decision'))}</td>"
            f"<td>{'yes' if o.get('agrees') else 'no'}</td></tr>"
        )
    return [*out, "</table></section>"]


def _transport(transport: Transport | None) -> list[str]:
    """The transport faults (issue 20): the line, and each fault with its request."""
    if transport is None:
        return []
    out = [
        f'<section id="transport"><h2>{_e(TITLES["transport"])}</h2>',
        f"<p>{_e(transport.line)}</p><ul>",
    ]
    for fault in transport.faults[:200]:
        out.append(
            f"<li>{_e(fault['reason'])} ({_e(fault['test'])}): "
            f"<code>{_e(fault['curl'])}</code></li>"
        )
    return [*out, "</ul></section>"]


def _limiter(limiter: Limiter | None) -> list[str]:
    if limiter is None:
        return []
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(value)}</td><td>{_e(evidence)}</td></tr>"
        for name, value, evidence in limiter.items
    )
    return [
        f'<section id="ratelimit"><h2>{_e(TITLES["ratelimit"])}</h2>',
        f'<p id="limiter-summary"><strong>{_e(limiter.summary)}</strong></p>',
        f'<div class="timeline">{limiter.timeline}</div>',
        f"<table><tr><th>item</th><th>value</th><th>evidence</th></tr>{rows}</table>",
        "</section>",
    ]


def _plan(spend: Spend) -> list[str]:
    out = [f'<section id="plan"><h2>{_e(TITLES["plan"])}</h2>']
    out.append(f"<p>requests sent: {_e(spend.requests or 'none')} in {_e(spend.duration)} s</p>")
    if spend.created and spend.local:
        out.append(f"<p>created assistants: {len(spend.created)} (on the local reference)</p>")
    elif spend.created:
        out.append(
            f"<h3>created assistants ({len(spend.created)})</h3><p>no documented way to delete "
            "them; remove them in the vendor's portal: "
            f"{_e(', '.join(map(str, spend.created)))}</p>"
        )
    if spend.generated:
        out.append(
            f"<p>seed {_e(spend.generated.get('seed'))} (--seed replays the generated cases); "
            f"{_e(spend.generated.get('negatives_dropped', 0))} generated negative cases "
            "dropped</p>"
        )
    for key, value in spend.records.items():
        out.append(
            f"<h3>{_e(key.replace('_', ' '))}</h3><pre>"
            f"{_e(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"
        )
    return [*out, "</section>"]


def write_html(report: Mapping[str, Any], path: Path, secrets: Iterable[str] = ()) -> None:
    """Write the page to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, secrets), encoding="utf-8")
