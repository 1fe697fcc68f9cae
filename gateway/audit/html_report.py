"""The HTML report of ``hople audit report --format html`` and the charts of the web page.

The HTML report is one self-contained file: inline CSS and inline SVG charts drawn here,
no script, no external resource, every value escaped.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from gateway.audit.display import visible
from gateway.audit.records import format_time
from gateway.audit.render import percent, shorten
from gateway.audit.reports import AgencyRow, Report

__all__ = ["html_report", "reasons_svg", "trend_svg"]


PALETTE = ["#1f77b4", "#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def _e(value: Any) -> str:
    return html.escape(visible(str(value)), quote=True)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    import math

    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def trend_svg(report: Report) -> str:
    """Stacked bars per month (documents valid / invalid, parts uninspected) with the number
    of messages and a line for the valid percentage on the right axis."""
    months = report.trend
    width, height = max(480, 70 * len(months) + 120), 300
    left, right, top, bottom = 60, 60, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max([m.documents + m.uninspected_parts for m in months]
                         + [m.messages for m in months] + [1]))
    slot = plot_w / max(1, len(months))
    bar = min(40.0, slot * 0.6)
    parts = [
        f'<svg role="img" aria-labelledby="trend-title" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">',
        '<title id="trend-title">Documents per month: valid and invalid; valid %</title>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'class="tick">{value:g}</text>')
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" class="tick">'
                     f'{25 * i}%</text>')
    points = []
    for i, m in enumerate(months):
        x = left + slot * i + (slot - bar) / 2
        base: float = top + plot_h
        for count, color, label in ((m.valid_documents, PALETTE[4], "valid"),
                                    (m.invalid_documents, PALETTE[1], "invalid"),
                                    (m.uninspected_parts, PALETTE[2], "uninspected")):
            h = plot_h * count / peak
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{_e(m.name)}: {count} {label} documents</title>'
                    "</rect>"
                )
            base -= h
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                     f'class="tick">{_e(m.name)}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 32}" '
                     f'text-anchor="middle" class="tick">{m.messages} msg</text>')
        if m.valid_pct is not None:
            points.append((x + bar / 2, top + plot_h - plot_h * m.valid_pct / 100, m))
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" '
                     'stroke-width="2"/>')
        for x, y, m in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{PALETTE[0]}">'
                         f'<title>{_e(m.name)}: {percent(m.valid_pct)}% valid</title></circle>')
    parts.append(_legend([("valid documents", PALETTE[4]), ("invalid documents", PALETTE[1]),
                          ("uninspected parts", PALETTE[2]), ("valid %", PALETTE[0])],
                         left, 14))
    parts.append("</svg>")
    return "".join(parts)


def _legend(items: list[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for label, color in items:
        out.append(f'<rect x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{x + 14:.0f}" y="{y:.0f}" class="tick">{_e(label)}</text>')
        x += 24 + 7 * len(label)
    return "".join(out)


def reasons_svg(report: Report, n_codes: int = 6) -> str:
    """One horizontal stacked bar per agency: its failure reasons by finding code."""
    codes = report.top_codes(n_codes)
    rows = [r for r in report.agencies if sum(r.reasons.values())]
    label_w, width = 260, 820
    bar_h, gap, top = 18, 8, 40
    height = top + (bar_h + gap) * max(1, len(rows)) + 20
    peak = _nice_max(max([sum(r.reasons.values()) for r in rows] + [1]))
    plot_w = width - label_w - 40
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(codes)}
    legend = [(c, colors[c]) for c in codes]
    if any(set(r.reasons) - set(codes) for r in rows):
        legend.append(("other", "#bbbbbb"))
    parts = [
        f'<svg role="img" aria-labelledby="reasons-title" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">',
        '<title id="reasons-title">Failure reasons per agency</title>',
    ]
    legend_rows = [legend[i:i + 4] for i in range(0, len(legend), 4)] or [[]]
    for k, chunk in enumerate(legend_rows[:2]):
        parts.append(_legend(chunk, 10, 14 + 14 * k))
    if not rows:
        parts.append(f'<text x="10" y="{top + 14}" class="tick">No failures in this period.'
                     "</text>")
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end" '
                     f'class="label">{_e(shorten(r.name, 40))}</text>')
        x = float(label_w)
        segments = [(c, r.reasons.get(c, 0), colors[c]) for c in codes]
        other = sum(v for c, v in r.reasons.items() if c not in colors)
        segments.append(("other", other, "#bbbbbb"))
        for code, count, color in segments:
            if not count:
                continue
            w = plot_w * count / peak
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{color}"><title>{_e(r.name)}: {_e(code)} × {count}</title>'
                         "</rect>")
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar_h - 5}" class="tick">'
                     f"{sum(r.reasons.values())}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _head_note(head: tuple[int, str] | None) -> str:
    if head is None:
        return ""
    return (f'<p class="note">Đầu chuỗi nhật ký / chain head: seq {int(head[0])}, '
            f"<code>{_e(head[1])}</code> — lưu giữ để đối chiếu / keep it to check the log "
            f"later: <code>hople audit verify --anchor {int(head[0])}:{_e(head[1])}</code></p>")


_CSS = """
body{font-family:system-ui,"Segoe UI",Roboto,Arial,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em}
th{background:#f3f3f3;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#fafafa}.chart{max-width:100%;height:auto}
.chart .tick{font-size:11px;fill:#444}.chart .label{font-size:12px;fill:#222}
.note{color:#555;font-size:.85em;max-width:60em}
"""


def html_report(report: Report, generated_at: datetime, source: str = "", top: int = 5,
                head: tuple[int, str] | None = None) -> str:
    """The whole page. ``head`` (the chain head when the report was made) is printed so a
    kept copy of the report anchors the log (``hople audit verify --anchor SEQ:HASH``)."""
    def row_html(r: AgencyRow, cls: str = "") -> str:
        cells = [
            f"<td>{_e(r.code)}</td>", f"<td>{_e(r.name)}</td>",
            f'<td class="n">{r.messages}</td>', f'<td class="n">{r.documents}</td>',
            f'<td class="n">{percent(r.valid_pct)}</td>',
            f'<td class="n">{r.freemail_refusals}</td>', f'<td class="n">{r.held}</td>',
            f'<td class="n">{r.uninspected}</td>',
            f"<td>{_e(', '.join(f'{c} ({n})' for c, n in r.top_reasons(top)) or '–')}</td>",
        ]
        return f'<tr class="{cls}">' + "".join(cells) + "</tr>"

    trend_rows = "".join(
        f"<tr><td>{_e(m.name)}</td><td class=\"n\">{m.messages}</td>"
        f"<td class=\"n\">{m.documents}</td><td class=\"n\">{percent(m.valid_pct)}</td>"
        f"<td class=\"n\">{m.freemail_refusals}</td><td class=\"n\">{m.held}</td>"
        f"<td class=\"n\">{m.uninspected}</td></tr>"
        for m in report.trend
    )
    agency_rows = "".join(row_html(r) for r in report.agencies) + row_html(report.total, "total")
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Báo cáo nhật ký quyết định / Decision log report {_e(report.title_period)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Báo cáo giá trị pháp lý văn bản điện tử gửi qua thư điện tử<br>
<small>Legal validity of e-mailed documents — {_e(report.title_period)}</small></h1>
<p class="note">Thời gian lập / generated: {_e(format_time(generated_at))} ·
Múi giờ / time zone: {_e(report.zone)} · Nguồn / source: {_e(source or "decision log")} ·
{report.total.messages} thư / messages, {report.total.documents} văn bản / documents</p>

<h2>Xu hướng theo tháng / Trend per month</h2>
{trend_svg(report)}
<table>
<thead><tr><th>Tháng / month</th><th>Thư / messages</th><th>Văn bản / documents</th>
<th>Hợp lệ / valid %</th><th>Từ chối hộp thư miễn phí / free-mail refusals</th>
<th>Tạm giữ / held</th><th>Chưa kiểm tra được / uninspected</th></tr></thead>
<tbody>{trend_rows}</tbody>
</table>

<h2>Theo cơ quan / Per agency</h2>
<table>
<thead><tr><th>Mã / code</th><th>Cơ quan / agency</th><th>Thư / messages</th>
<th>Văn bản / documents</th><th>Hợp lệ / valid %</th><th>Hộp thư miễn phí / free-mail</th>
<th>Tạm giữ / held</th><th>Chưa kiểm tra được / uninspected</th>
<th>Lý do không hợp lệ chính / top failure reasons</th></tr></thead>
<tbody>{agency_rows}</tbody>
</table>

<h2>Lý do không hợp lệ theo cơ quan / Failure reasons per agency</h2>
{reasons_svg(report)}

<p class="note">Văn bản: tệp đính kèm thuộc loại có thể chỉnh sửa hoặc không chỉnh sửa được
(Điều 9.2); tỷ lệ hợp lệ = văn bản hợp lệ / văn bản. Lý do: mã phát hiện mức lỗi hoặc có hành
động khác "accept", đếm một lần cho mỗi thư hoặc văn bản. Chưa kiểm tra được: thư có phần không
nhận dạng hoặc không mở được.<br>
Documents: attachments of an editable or non-editable class (Article 9.2); valid % = valid
documents / documents. Reasons: finding codes of severity error or with an action other than
accept, counted once per message or document. Free-mail refusals: messages rejected with
SENDER_FREEMAIL (Article 9.4). Uninspected: messages with a part that could not be identified
or opened (and nothing worse), neither valid nor invalid. The agency is taken from the
envelope sender by the agency map.</p>
{_head_note(head)}
</body>
</html>
"""
