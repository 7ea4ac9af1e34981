"""The HTML findings table's script (templates/report.js) run by Node against a minimal DOM: filters, sorting,
paging, and text-only cells. Skipped where Node is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from auditor.controls import Finding
from auditor.paths import templates_dir
from auditor.report.html import findings_blob

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

HARNESS = r"""
'use strict';
class El {
  constructor(tag, attrs) {
    this.tag = tag; this.children = []; this.listeners = {}; this.dataset = {}; this.attrs = {};
    this.className = ''; this.value = ''; this.disabled = false; this._text = '';
    Object.assign(this, attrs || {});
  }
  get textContent() { return this._text + this.children.map(c => c.textContent).join(''); }
  set textContent(v) { this.children = []; this._text = String(v); }
  set innerHTML(v) { throw new Error('innerHTML used'); }
  appendChild(c) {
    if (c.tag !== '#fragment') { this.children.push(c); return c; }
    this.children.push(...c.children); c.children = [];
    return c;
  }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type) { (this.listeners[type] || []).forEach(fn => fn({})); }
  setAttribute(k, v) { this.attrs[k] = v; }
  removeAttribute(k) { delete this.attrs[k]; }
  querySelector(sel) { return this.children.find(c => c.className === sel.slice(1)); }
}
const input = new El('input'), shown = new El('span'), data = new El('script');
data._text = process.env.BLOB;
const pager = new El('span');
['prev', 'page', 'next'].forEach(n => pager.appendChild(new El('x', {className: n})));
const body = new El('tbody');
const headers = ['control', 'status', 'severity', 'subscription', 'cluster', 'pool', 'message', 'tags']
  .map(c => new El('th', {dataset: {column: c}}));
const table = new El('table', {tBodies: [body], tHead: {rows: [{cells: headers}]}});
const selects = ['control', 'status', 'severity', 'subscription']
  .map(c => new El('select', {dataset: {column: c}}));
const link = new El('a', {dataset: {control: 'AKS-B'}});
const ids = {'findings-data': data, all: table, filter: input, shown: shown, pager: pager};
global.document = {
  getElementById: id => ids[id] || null,
  querySelectorAll: sel => sel.startsWith('select') ? selects : sel.startsWith('a[') ? [link] : [],
  querySelector: sel => selects.find(s => sel.includes('"' + s.dataset.column + '"')) || null,
  createElement: tag => new El(tag),
  createDocumentFragment: () => new El('#fragment'),
};
global.setTimeout = fn => fn();
global.clearTimeout = () => {};
require(process.env.SCRIPT);
// A cell's own text (the cluster cell also holds the resource group in a child element).
const rows = () => body.children.map(tr => tr.children.map(td => td._text || td.textContent));
const out = {};
out.initial = {count: body.children.length, shown: shown.textContent, first: rows()[0],
               pager: pager.children[1].textContent, prevDisabled: pager.children[0].disabled};
pager.children[2].fire('click');
out.page2 = {count: body.children.length, pager: pager.children[1].textContent};
const status = selects[1];
status.value = String(status.children.findIndex(o => o.textContent === 'warn')); status.fire('change');
out.warn = {statuses: [...new Set(rows().map(r => r[1]))], shown: shown.textContent};
status.value = ''; status.fire('change');
input.value = 'NEEDLE'; input.fire('input');
out.search = {clusters: rows().map(r => r[4]), shown: shown.textContent};
input.value = ''; input.fire('input');
headers[4].fire('click');
out.asc = rows().slice(0, 3).map(r => r[4]);
out.ascAttr = headers[4].attrs['aria-sort'];
headers[4].fire('click');
out.desc = rows().slice(0, 3).map(r => r[4]);
link.fire('click');
out.link = {controls: [...new Set(rows().map(r => r[0]))], shown: shown.textContent};
out.options = selects[0].children.map(o => o.textContent);
out.hostile = JSON.stringify(body.children.some(tr => tr.children.some(td => td.tag !== 'td')));
console.log(JSON.stringify(out));
"""


def _findings() -> list[Finding]:
    findings = []
    for i in range(250):
        status = ["pass", "fail", "warn", "unknown"][i % 4]
        control = ["AKS-A", "AKS-B", "AKS-C"][i % 3]
        name = f"cluster-{i:03d}" if i != 7 else "<img src=x onerror=alert(1)> NEEDLE"
        findings.append(
            Finding(
                control_id=control,
                status=status,
                severity="high",
                resource_id=f"/subscriptions/s/{name}",
                node_pool=None if i % 2 else "pool1",
                message=f"message {i}",
                cluster=name,
                subscription_id="s",
                subscription_name="Sub One",
                resource_group="rg",
                tags={"env": "prod"},
                remediation="az aks update" if status == "fail" else "",
            )
        )
    return findings


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("js")
    harness = work / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    blob = findings_blob(_findings())
    env = {
        "BLOB": json.loads(json.dumps(blob)),
        "SCRIPT": str(Path(templates_dir()) / "report.js"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run([str(NODE), str(harness)], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_first_page_shows_failures_first(run: dict[str, object]) -> None:
    initial = run["initial"]
    assert isinstance(initial, dict)
    assert initial["count"] == 100 and initial["shown"] == "250 of 250 findings"
    assert initial["first"][1] == "fail" and initial["pager"] == "page 1 of 3" and initial["prevDisabled"]
    assert run["hostile"] == "false"  # every cell is a plain <td> holding text


def test_paging(run: dict[str, object]) -> None:
    assert run["page2"] == {"count": 100, "pager": "page 2 of 3"}


def test_status_filter_and_text_search(run: dict[str, object]) -> None:
    assert run["warn"] == {"statuses": ["warn"], "shown": "62 of 250 findings"}
    search = run["search"]
    assert isinstance(search, dict)
    assert search["clusters"] == ["<img src=x onerror=alert(1)> NEEDLE"]  # as text, in a plain cell


def test_sorting_by_a_column_both_ways(run: dict[str, object]) -> None:
    assert run["asc"] == ["<img src=x onerror=alert(1)> NEEDLE", "cluster-000", "cluster-001"]
    assert run["ascAttr"] == "ascending"
    assert run["desc"] == ["cluster-249", "cluster-248", "cluster-247"]


def test_control_link_filters_the_table(run: dict[str, object]) -> None:
    link = run["link"]
    assert isinstance(link, dict)
    assert link["controls"] == ["AKS-B"] and link["shown"] == "83 of 250 findings"
    assert run["options"] == ["AKS-A", "AKS-B", "AKS-C"]
