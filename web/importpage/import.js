// Upload page for GIS staff: preview (encoding, CRS, schema, first features on a small map),
// then import with progress. Everything shown is set through textContent (no HTML injection).
(function () {
  'use strict';
  var csrf = '';
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }

  fetch('/api/auth/me', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (me) {
    csrf = me.csrf_token || '';
    if (!me.user) { $('who').textContent = 'Войдите в систему (/login) с ролью gis_staff или admin.'; }
    else { $('who').textContent = me.user.email + ' (' + me.user.role + ')'; }
  });

  function formData(extra) {
    var fd = new FormData();
    var files = $('file').files;
    for (var i = 0; i < files.length; i++) fd.append('file', files[i], files[i].name);
    ['encoding', 'srid', 'mode', 'layer', 'key', 'direction', 'map'].forEach(function (k) { if ($(k).value) fd.append(k, $(k).value); });
    Object.keys(extra).forEach(function (k) { fd.append(k, extra[k]); });
    return fd;
  }
  function post(extra) {
    return fetch('/api/import', { method: 'POST', body: formData(extra), credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
  }
  function showError(msg) { var r = $('result'); r.textContent = ''; r.appendChild(el('p', msg, 'error')); }

  $('preview').addEventListener('click', function () {
    if (!$('file').files.length) return showError('Выберите файл.');
    post({ preview: '1' }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); }).then(function (x) {
      if (!x[0]) return showError(x[1].error ? x[1].error.message : 'ошибка');
      showPreview(x[1]);
    }).catch(function (e) { showError(String(e)); });
  });

  $('import').addEventListener('click', function () {
    if (!$('file').files.length) return showError('Выберите файл.');
    var bar = $('progress'); bar.hidden = false; bar.value = 0;
    post({ stream: '1' }).then(function (r) {
      if (!r.ok) return r.json().then(function (b) { showError(b.error ? b.error.message : 'ошибка'); });
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
      function pump() {
        return reader.read().then(function (c) {
          if (c.done) return;
          buf += dec.decode(c.value, { stream: true });
          var lines = buf.split('\n'); buf = lines.pop();
          lines.forEach(function (l) {
            if (!l) return;
            var m = JSON.parse(l);
            if (m.progress != null) { bar.max = Math.max(m.total, 1); bar.value = m.progress; }
            if (m.error) showError(m.error.message);
            else if (m.report) { bar.value = bar.max; showReport(m.report); }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (e) { showError(String(e)); });
  });

  function row(t, k, v) { var tr = el('tr'); tr.appendChild(el('th', k)); tr.appendChild(el('td', v)); t.appendChild(tr); }

  function showPreview(p) {
    var r = $('result'); r.textContent = '';
    var i = p.info, t = el('table');
    row(t, 'Файл', i.file + ' (' + i.format + ')');
    row(t, 'Записей', String(i.count));
    row(t, 'Геометрия', i.geometry_type || '?');
    row(t, 'Кодировка', (i.encoding || '-') + ' (' + (i.encoding_source || '') + ')');
    row(t, 'Система координат', (i.crs.epsg ? 'EPSG:' + i.crs.epsg + ' ' : '') + (i.crs.name || '') + ' (' + (i.crs_source || '') + ')');
    r.appendChild(t);
    (i.warnings || []).forEach(function (w) { r.appendChild(el('p', w, 'warn')); });
    var f = el('table'), head = el('tr');
    ['Поле', 'Тип', 'Столбец'].forEach(function (h) { head.appendChild(el('th', h)); }); f.appendChild(head);
    (i.fields || []).forEach(function (fl, k) { var tr = el('tr'); tr.appendChild(el('td', fl.name)); tr.appendChild(el('td', fl.type)); tr.appendChild(el('td', p.attributes[k])); f.appendChild(tr); });
    r.appendChild(el('h2', 'Поля')); r.appendChild(f);
    var feats = (p.features && p.features.features) || [];
    if (feats.length) {
      r.appendChild(el('h2', 'Первые объекты'));
      var ft = el('table'), names = (i.fields || []).slice(0, 6).map(function (x) { return x.name; });
      var hr = el('tr'); hr.appendChild(el('th', '#')); names.forEach(function (n) { hr.appendChild(el('th', n)); }); ft.appendChild(hr);
      feats.slice(0, 10).forEach(function (ff) { var tr = el('tr'); tr.appendChild(el('td', String(ff.id))); names.forEach(function (n) { var v = ff.properties[n]; tr.appendChild(el('td', v == null ? '' : String(v))); }); ft.appendChild(tr); });
      r.appendChild(ft);
    }
    (p.rejections || []).forEach(function (x) { r.appendChild(el('p', 'Запись ' + x.record + ': ' + x.reason, 'warn')); });
    drawMap(feats);
  }

  function showReport(rep) {
    var r = $('result'); r.textContent = '';
    var t = el('table');
    row(t, 'Слой', rep.layer + ' (' + rep.mode + ')'); row(t, 'Статус', rep.status);
    row(t, 'Прочитано', String(rep.read)); row(t, 'Записано', String(rep.written));
    row(t, 'Исправлено', String(rep.repaired)); row(t, 'Отклонено', String(rep.rejected));
    row(t, 'Время, с', String(rep.duration));
    r.appendChild(t);
    (rep.rejections || []).slice(0, 50).forEach(function (x) { r.appendChild(el('p', 'Запись ' + x.record + ': ' + x.reason, 'warn')); });
    (rep.warnings || []).forEach(function (w) { r.appendChild(el('p', w, 'warn')); });
  }

  // A small map of the previewed features: equirectangular, scaled to the features' extent.
  function drawMap(feats) {
    var svg = $('map'); while (svg.firstChild) svg.removeChild(svg.firstChild);
    var pts = [];
    function walk(c, f) { if (typeof c[0] === 'number') f(c); else c.forEach(function (x) { walk(x, f); }); }
    feats.forEach(function (f) { if (f.geometry) walk(f.geometry.coordinates, function (p) { pts.push(p); }); });
    if (!pts.length) { svg.hidden = true; return; }
    svg.hidden = false;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    pts.forEach(function (p) { x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); });
    var k = Math.cos((y0 + y1) / 2 * Math.PI / 180), w = Math.max((x1 - x0) * k, 1e-9), h = Math.max(y1 - y0, 1e-9);
    var s = Math.min(580 / w, 380 / h);
    function X(p) { return (10 + (p[0] - x0) * k * s).toFixed(1); }
    function Y(p) { return (390 - (p[1] - y0) * s).toFixed(1); }
    var NS = 'http://www.w3.org/2000/svg';
    function ring(r) { return r.map(function (p, i) { return (i ? 'L' : 'M') + X(p) + ' ' + Y(p); }).join('') ; }
    feats.forEach(function (f) {
      var g = f.geometry; if (!g) return;
      var polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
      polys.forEach(function (p) { var e = document.createElementNS(NS, 'path'); e.setAttribute('d', p.map(function (r) { return ring(r) + 'Z'; }).join('')); e.setAttribute('fill-rule', 'evenodd'); svg.appendChild(e); });
      var lines = g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates : [];
      lines.forEach(function (l) { var e = document.createElementNS(NS, 'path'); e.setAttribute('d', ring(l)); e.setAttribute('class', 'line'); svg.appendChild(e); });
      var points = g.type === 'Point' ? [g.coordinates] : g.type === 'MultiPoint' ? g.coordinates : [];
      points.forEach(function (p) { var e = document.createElementNS(NS, 'circle'); e.setAttribute('cx', X(p)); e.setAttribute('cy', Y(p)); e.setAttribute('r', 3); svg.appendChild(e); });
    });
  }
})();
