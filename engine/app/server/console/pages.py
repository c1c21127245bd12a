"""The console's HTML, rendered on the server: the calls list, one call, the flow, login.

Every value from outside (call ids, callers, states, transcript text, errors, flow text) is
HTML-escaped here; the only markup not built here is the flow's SVG, which Graphviz drew
from the operator's own flows.yaml (and `diagrams.inline_svg` stripped of scripts). Data for
the page's script goes in a `<script type="application/json">` block with `<`, `>` and `&`
escaped, so no string can close it. The script (static/console.js) renders live updates
with `textContent` only. Pure functions: no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from .view import LATENCY_STAGES, CallView

STATIC = "/console/static"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def when(epoch: float) -> str:
    if not epoch:
        return "?"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def data_block(element_id: str, value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{_e(element_id)}">{text}</script>'


def layout(title: str, page: str, body: str, signed_in: bool = True) -> str:
    nav = ('<nav><a href="/console">Calls</a> <a href="/console/flow">Flow</a>'
           '<form method="post" action="/console/logout" class="logout">'
           '<button type="submit">Sign out</button></form></nav>') if signed_in else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)} · dialflow console</title>"
            f'<link rel="stylesheet" href="{STATIC}/console.css">'
            f'<script src="{STATIC}/console.js" defer></script></head>'
            f'<body data-page="{_e(page)}"><header><h1>dialflow console</h1>{nav}</header>'
            f"<main>{body}</main></body></html>")


def login(error: str = "") -> str:
    problem = f'<p class="error" id="login-error">{_e(error)}</p>' if error else ""
    body = ('<section class="login"><h2>Sign in</h2>'
            "<p>The console shows calls in progress and recorded calls. Enter the console "
            "token (<code>DIALFLOW_CONSOLE_TOKEN</code>).</p>"
            f'{problem}<form method="post" action="/console/login">'
            '<label>Token <input type="password" name="token" id="token" required '
            'autocomplete="current-password" maxlength="512"></label> '
            '<button type="submit" id="sign-in">Sign in</button></form></section>')
    return layout("Sign in", "login", body, signed_in=False)


def off() -> str:
    return ("the dialflow console is off: set DIALFLOW_CONSOLE_TOKEN in the server's "
            "environment to turn it on\n")


LIVE_HEAD = ("<tr><th>call</th><th>caller</th><th>duration</th><th>state</th><th>timer</th>"
             "<th>flow</th><th>worker</th></tr>")


def live_row(row: dict[str, Any]) -> str:
    timer = row["timer"]["event"] if row.get("timer") else "-"
    return (f'<tr data-key="{_e(row["key"])}"><td><a href="/console/calls/{_e(row["key"])}">'
            f'{_e(row["id"])}</a></td><td>{_e(row["caller"])}</td>'
            f'<td class="duration">{row["duration"]:.0f}s</td>'
            f'<td class="state">{_e(row["state"])}</td><td class="timer">{_e(timer)}</td>'
            f'<td>{_e(row["flow"])}</td><td>{_e(row["worker"] or "-")}</td></tr>')


def calls_page(live: list[dict[str, Any]], past: list[CallView], total: int, page: int,
               pages: int, source: str) -> str:
    rows = "".join(live_row(r) for r in live)
    empty = "" if live else '<tr class="empty"><td colspan="7">no call in progress</td></tr>'
    past_rows = "".join(
        f'<tr><td>{_e(when(v.started))}</td><td><a href="/console/calls/{_e(v.key)}">'
        f"{_e(v.call_id)}</a></td><td>{_e(v.caller)}</td><td>{v.last_t:.1f}s</td>"
        f"<td>{_e(v.ended or v.state + ' (no end)')}</td>"
        f"<td>{v.turns}</td><td>{_e(v.flow)}</td></tr>"
        for v in past)
    more = "".join(
        f'<a href="/console?page={n}"{" class=current" if n == page else ""}>{n + 1}</a> '
        for n in range(min(pages, 20)))
    body = (f'<section id="live"><h2>Live calls <span id="live-count">{len(live)}</span></h2>'
            f'<p class="hint">{_e(source)}</p>'
            f'<table id="live-calls"><thead>{LIVE_HEAD}</thead><tbody>{rows}{empty}</tbody>'
            f'</table></section><section id="past"><h2>Past calls ({total})</h2>'
            '<table id="past-calls"><thead><tr><th>started</th><th>call</th><th>caller</th>'
            "<th>duration</th><th>end</th><th>turns</th><th>flow</th></tr></thead>"
            f'<tbody>{past_rows}</tbody></table><p class="pages">{more}</p></section>')
    return layout("Calls", "calls", body)


def call_page(view: CallView, svg: str, diagram_error: str, edges: dict[str, list[str]]
              ) -> str:
    row = view.row(0.0)
    drawing = svg or f'<p class="error">no diagram: {_e(diagram_error)}</p>'
    legend = "".join(f'<span class="stage s-{s}">{_e(s.replace("_", " "))}</span>'
                     for s in LATENCY_STAGES)
    body = (
        f'<section id="call-head"><h2>Call <span id="call-id">{_e(view.call_id)}</span></h2>'
        f'<dl><dt>caller</dt><dd>{_e(view.caller)}</dd><dt>started</dt>'
        f"<dd>{_e(when(view.started))}</dd><dt>flow</dt><dd>{_e(view.flow_name)} "
        f"<code>{_e(view.flow)}</code></dd><dt>state</dt>"
        f'<dd id="current-state">{_e(view.state)}</dd><dt>timer</dt><dd id="timer">-</dd>'
        f'<dt>status</dt><dd id="status">{_e(view.ended or "live")}</dd></dl></section>'
        '<section id="replay"><button type="button" id="play">Replay</button> '
        '<input type="range" id="scrubber" min="0" max="0" step="0.01" value="0" '
        'aria-label="call time"> <span id="clock">0.0 s</span> '
        '<label><input type="checkbox" id="follow" checked> follow live</label></section>'
        f'<section id="diagram">{drawing}</section>'
        '<div class="columns"><section id="transcript"><h3>Transcript</h3>'
        '<ol id="lines"></ol></section><section id="latency"><h3>Turn latency (ms from the '
        f'end of the caller\'s speech)</h3><div id="bars"></div><p class="legend">{legend}</p>'
        '</section></div><section id="trace"><h3>Event trace</h3><table><thead><tr>'
        "<th>t</th><th>event</th><th>state</th><th>detail</th></tr></thead>"
        '<tbody id="trace-rows"></tbody></table></section>'
        + data_block("call-data", {"key": view.key, "edges": edges, "live": not row["ended"],
                                   "started": view.started}))
    return layout(f"Call {view.call_id}", "call", body)


def flow_page(info: dict[str, Any], svg: str, diagram_error: str,
              findings: list[dict[str, Any]]) -> str:
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in info.items())
    rows = "".join(
        f'<tr class="{_e(f["severity"])}"><td>{_e(f["severity"])}</td><td>{_e(f["kind"])}</td>'
        f'<td>{_e(f["file"])}:{_e(f["line"])}</td><td>{_e(f["message"])}</td>'
        f'<td>{_e(f["fix"])}</td></tr>' for f in findings)
    table = (f'<table id="findings"><thead><tr><th>severity</th><th>kind</th><th>where</th>'
             f"<th>finding</th><th>fix</th></tr></thead><tbody>{rows}</tbody></table>"
             if findings else '<p id="findings">dialflow check: no findings</p>')
    drawing = svg or f'<p class="error">no diagram: {_e(diagram_error)}</p>'
    body = (f'<section id="flow-facts"><h2>Flow</h2><dl>{facts}</dl></section>'
            f'<section id="diagram">{drawing}</section>'
            f"<section><h3>dialflow check</h3>{table}</section>")
    return layout("Flow", "flow", body)
