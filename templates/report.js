(function () {
  'use strict';
  // The "All findings" table: every finding of the scan, from the JSON data block, filtered, sorted and paged
  // offline. Cells are set with textContent only: no value from the data is ever parsed as markup.
  var source = document.getElementById('findings-data');
  var table = document.getElementById('all');
  if (!source || !table) return;
  var data = JSON.parse(source.textContent);
  var C = data.columns.length, N = data.n, rows = data.rows, dicts = data.dicts;
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var PAGE = 100;
  var body = table.tBodies[0];
  var input = document.getElementById('filter');
  var shown = document.getElementById('shown');
  var pager = document.getElementById('pager');
  var selects = Array.prototype.slice.call(document.querySelectorAll('select[data-column]'));
  var lowered = dicts.map(function (d) { return d.map(function (s) { return s.toLowerCase(); }); });
  var order = new Int32Array(N), view = [], page = 0, sortColumn = -1, ascending = true;
  for (var i = 0; i < N; i++) order[i] = i;

  selects.forEach(function (select) {
    var c = col[select.dataset.column];
    dicts[c].forEach(function (value, index) {
      var option = document.createElement('option');
      option.value = String(index);
      option.textContent = value === '' ? '(none)' : value;
      select.appendChild(option);
    });
    select.addEventListener('change', function () { page = 0; apply(); });
  });

  function apply() {
    var q = input.value.trim().toLowerCase();
    var hits = null;
    if (q) {
      hits = lowered.map(function (d) {
        var m = new Uint8Array(d.length);
        for (var k = 0; k < d.length; k++) if (d[k].indexOf(q) >= 0) m[k] = 1;
        return m;
      });
    }
    var exact = selects.filter(function (s) { return s.value !== ''; })
      .map(function (s) { return [col[s.dataset.column], Number(s.value)]; });
    view = [];
    for (var n = 0; n < N; n++) {
      var r = order[n], base = r * C, keep = true;
      for (var e = 0; e < exact.length && keep; e++) keep = rows[base + exact[e][0]] === exact[e][1];
      if (keep && hits) {
        keep = false;
        for (var c = 0; c < C && !keep; c++) keep = hits[c][rows[base + c]] === 1;
      }
      if (keep) view.push(r);
    }
    draw();
  }

  function cell(tr, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    if (page >= pages) page = pages - 1;
    var fragment = document.createDocumentFragment();
    var end = Math.min(view.length, (page + 1) * PAGE);
    for (var v = page * PAGE; v < end; v++) {
      var base = view[v] * C, tr = document.createElement('tr');
      var status = dicts[col.status][rows[base + col.status]];
      var badge = document.createElement('span');
      badge.className = 'badge ' + status.replace(/[^a-z_]/g, '');
      badge.textContent = status;
      cell(tr, dicts[col.control][rows[base + col.control]]);
      cell(tr, '').appendChild(badge);
      cell(tr, dicts[col.severity][rows[base + col.severity]]);
      cell(tr, dicts[col.subscription][rows[base + col.subscription]]);
      var where = cell(tr, dicts[col.cluster][rows[base + col.cluster]]);
      var rg = document.createElement('div');
      rg.className = 'rg';
      rg.textContent = dicts[col.resource_group][rows[base + col.resource_group]];
      where.appendChild(rg);
      cell(tr, dicts[col.pool][rows[base + col.pool]]);
      var message = cell(tr, dicts[col.message][rows[base + col.message]]);
      var fix = dicts[col.remediation][rows[base + col.remediation]];
      if (fix) {
        var code = document.createElement('code');
        code.className = 'fix';
        code.textContent = fix;
        message.appendChild(code);
      }
      cell(tr, dicts[col.tags][rows[base + col.tags]], 'tags');
      fragment.appendChild(tr);
    }
    body.textContent = '';
    body.appendChild(fragment);
    shown.textContent = view.length.toLocaleString() + ' of ' + N.toLocaleString() + ' findings';
    pager.querySelector('.page').textContent = 'page ' + (page + 1) + ' of ' + pages;
    pager.querySelector('.prev').disabled = page === 0;
    pager.querySelector('.next').disabled = page >= pages - 1;
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var c = col[th.dataset.column];
    if (c === undefined) return;
    th.addEventListener('click', function () {
      ascending = sortColumn === c ? !ascending : true;
      sortColumn = c;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var sign = ascending ? 1 : -1;
      // Dictionaries are sorted (status and severity by seriousness), so comparing indexes compares values;
      // ties keep the previous order.
      var sorted = Array.prototype.slice.call(order).map(function (r, n) { return [r, n]; });
      sorted.sort(function (a, b) { return sign * (rows[a[0] * C + c] - rows[b[0] * C + c]) || a[1] - b[1]; });
      for (var n = 0; n < N; n++) order[n] = sorted[n][0];
      page = 0;
      apply();
    });
  });
  var timer = null;
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { page = 0; apply(); }, 150);
  });
  pager.querySelector('.prev').addEventListener('click', function () { page--; draw(); });
  pager.querySelector('.next').addEventListener('click', function () { page++; draw(); });
  Array.prototype.forEach.call(document.querySelectorAll('a[data-control]'), function (a) {
    a.addEventListener('click', function () {
      var select = document.querySelector('select[data-column="control"]');
      var index = dicts[col.control].indexOf(a.dataset.control);
      if (select && index >= 0) { select.value = String(index); page = 0; apply(); }
    });
  });
  apply();
})();
