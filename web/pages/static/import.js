// Upload page for GIS staff: preview (encoding, CRS, schema, first features on a small map),
// then import with progress. The wording (kk/ru/en) comes with the page; everything shown is
// set through textContent (no HTML injection).
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var T = JSON.parse($('import-text').textContent);
  var form = $('form'), lang = form.dataset.lang, csrf = form.dataset.csrf;
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function tr(key) { return T[key] || key; }
  function pick(t) { return t ? (t[lang] || t.ru || t.en || '') : ''; }

  // Direction names from the catalog, in the page's language.
  fetch('/api/layers', { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
    ((c && c.directions) || []).forEach(function (d) {
      var o = $('direction').querySelector('option[value="' + d.id + '"]');
      if (o && pick(d.title)) o.textContent = d.id + ' — ' + pick(d.title);
    });
  }).catch(function () {});

  // The catalog fields only matter when a layer is created.
  function syncMode() { $('create-only').hidden = $('mode').value !== 'create'; }
  $('mode').addEventListener('change', syncMode);
  syncMode();

  var fields = ['encoding', 'srid', 'mode', 'layer', 'key', 'map'];
  var createFields = ['title_kk', 'title_ru', 'title_en', 'direction', 'visibility'];
  function formData(extra) {
    var fd = new FormData();
    var files = $('file').files;
    for (var i = 0; i < files.length; i++) fd.append('file', files[i], files[i].name);
    fields.concat($('mode').value === 'create' ? createFields : []).forEach(function (k) {
      if ($(k).value) fd.append(k, $(k).value);
    });
    Object.keys(extra).forEach(function (k) { fd.append(k, extra[k]); });
    return fd;
  }
  // A new layer needs its title in each language: the empty field is named and focused.
  function missingTitle() {
    if ($('mode').value !== 'create') return null;
    var empty = null;
    ['title_kk', 'title_ru', 'title_en'].forEach(function (k) {
      var bad = !$(k).value.trim();
      $(k).setAttribute('aria-invalid', bad ? 'true' : 'false');
      if (bad && !empty) empty = k;
    });
    return empty;
  }
  // Kazakh groups digits with a space and writes a decimal comma, as Russian does; Chromium's
  // ICU data has no kk number format and would fall back to English.
  function fmt(n, digits) { return new Intl.NumberFormat(lang === 'kk' ? 'ru' : lang, { maximumFractionDigits: digits || 0 }).format(n); }
  function fill(s, v) { return s.replace(/\{(\w+)\}/g, function (m, k) { return v[k] != null ? v[k] : m; }); }
  // placeText says how many of the features lie outside the city boundary and how far.
  function placeText(pl) {
    return fill(tr('outside'), { outside: fmt(pl.outside), checked: fmt(pl.checked), share: fmt(Math.round(pl.share * 100)),
      distance: fmt(pl.max_distance_m / 1000, pl.max_distance_m < 10000 ? 1 : 0) });
  }
  function post(extra) {
    return fetch('/api/import', { method: 'POST', body: formData(extra), credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
  }
  function busy(on) { $('preview').disabled = on; $('import').disabled = on; form.setAttribute('aria-busy', on ? 'true' : 'false'); }

  // showError puts a headline in the page's language over the server's message, which names
  // the file, record and reason.
  function showError(headline, detail) {
    var r = $('result'); r.textContent = '';
    var box = el('div', null, 'error'); box.setAttribute('role', 'alert');
    box.appendChild(el('p', headline, 'error-title'));
    if (detail) box.appendChild(el('p', detail, 'error-detail'));
    r.appendChild(box);
    $('minimap').hidden = true;
  }
  function errorText(b) { return b && b.error ? b.error.message : ''; }

  $('preview').addEventListener('click', function () {
    if (!$('file').files.length) return showError(tr('choose_file'));
    busy(true);
    $('result').textContent = tr('working');
    post({ preview: '1' }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); }).then(function (x) {
      if (!x[0]) return showError(tr('refused'), errorText(x[1]));
      showPreview(x[1]);
    }).catch(function (e) { showError(tr('refused'), String(e)); }).then(function () { busy(false); });
  });

  $('import').addEventListener('click', function () { runImport({}); });

  // askConfirm shows why the data were refused (they lie outside the city) and a button that
  // sends the same import again with confirm_outside=1.
  function askConfirm(pl) {
    var r = $('result'); r.textContent = '';
    var box = el('div', null, 'error'); box.setAttribute('role', 'alert'); box.id = 'outside-warning';
    box.appendChild(el('p', tr('outside_refused'), 'error-title'));
    box.appendChild(el('p', placeText(pl), 'error-detail'));
    box.appendChild(el('p', tr('outside_hint'), 'error-detail'));
    var b = el('button', tr('confirm_outside')); b.type = 'button'; b.id = 'confirm-outside';
    b.addEventListener('click', function () { runImport({ confirm_outside: '1' }); });
    box.appendChild(b);
    r.appendChild(box);
  }

  function runImport(extra) {
    if (!$('file').files.length) return showError(tr('choose_file'));
    var empty = missingTitle();
    if (empty) { showError(tr('refused'), fill(tr('need_title'), { field: $(empty).labels[0].textContent })); $(empty).focus(); return; }
    var bar = $('progress'); bar.hidden = false; bar.value = 0; bar.removeAttribute('value');
    busy(true);
    $('result').textContent = tr('importing');
    post(Object.assign({ stream: '1' }, extra)).then(function (r) {
      if (!r.ok) return r.json().then(function (b) { bar.hidden = true; showError(tr('refused'), errorText(b)); });
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
      function pump() {
        return reader.read().then(function (c) {
          if (c.done) return;
          buf += dec.decode(c.value, { stream: true });
          var lines = buf.split('\n'); buf = lines.pop();
          lines.forEach(function (l) {
            if (!l) return;
            var m = JSON.parse(l);
            if (m.progress != null) { bar.max = Math.max(m.total, m.progress, 1); bar.value = m.progress; }
            if (m.error && m.error.code === 'conflict' && m.report && m.report.place) { bar.hidden = true; askConfirm(m.report.place); }
            else if (m.error) { bar.hidden = true; showError(tr('failed'), m.error.message); }
            else if (m.report) { bar.max = 1; bar.value = 1; showReport(m.report); }
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (e) { bar.hidden = true; showError(tr('failed'), String(e)); }).then(function () { busy(false); });
  }

  function row(t, k, v) { var r = el('tr'); r.appendChild(el('th', k)); r.lastChild.scope = 'row'; r.appendChild(el('td', v)); t.appendChild(r); }
  function heads(t, names) { var r = el('tr'); names.forEach(function (n) { var h = el('th', n); h.scope = 'col'; r.appendChild(h); }); t.appendChild(r); }
  function source(s) { return s ? ' (' + tr('src_' + s) + ')' : ''; }

  // showLayers shows what an OpenStreetMap extract gave (or, previewed, would give) each layer
  // its mapping fills, and the objects skipped.
  function showLayers(rep, preview) {
    var r = $('result'); r.textContent = '';
    r.appendChild(el('h2', preview ? tr('p_layers') : tr('r_done')));
    var t = el('table'); t.id = 'osm-layers';
    heads(t, [tr('r_layer'), tr('r_written'), tr('r_rejected'), tr('r_status')]);
    (rep.layers || []).forEach(function (l) {
      if (!l.written && !l.deleted && !l.rejected) return;
      var x = el('tr'); x.appendChild(el('td', l.layer)); x.appendChild(el('td', String(l.written)));
      x.appendChild(el('td', String(l.rejected))); x.appendChild(el('td', tr('status_' + l.status))); t.appendChild(x);
    });
    r.appendChild(t);
    if ((rep.problems || []).length) {
      r.appendChild(el('h2', tr('p_problems')));
      var pl = el('ul', null, 'warn');
      rep.problems.slice(0, 50).forEach(function (x) { pl.appendChild(el('li', x.object + ': ' + x.reason)); });
      r.appendChild(pl);
    }
    $('minimap').hidden = true;
  }

  function showPreview(p) {
    if (p.layers) return showLayers(p, true);
    var r = $('result'); r.textContent = '';
    var i = p.info, t = el('table', null, 'summary');
    t.id = 'preview-summary';
    row(t, tr('p_file'), i.file);
    row(t, tr('p_format'), i.format);
    row(t, tr('p_count'), String(i.count));
    row(t, tr('p_geometry'), i.geometry_type || '?');
    row(t, tr('p_encoding'), (i.encoding || '—') + source(i.encoding_source));
    row(t, tr('p_crs'), (i.crs.epsg ? 'EPSG:' + i.crs.epsg + ' ' : '') + (i.crs.name || '') + source(i.crs_source));
    r.appendChild(t);
    if (p.place && p.place.outside) {
      var pw = el('p', placeText(p.place) + ' ' + tr('outside_hint'), 'warn'); pw.id = 'preview-outside'; pw.setAttribute('role', 'alert');
      r.appendChild(pw);
    }
    if ((i.warnings || []).length) {
      r.appendChild(el('h2', tr('p_warnings')));
      var wl = el('ul', null, 'warn'); i.warnings.forEach(function (w) { wl.appendChild(el('li', w)); }); r.appendChild(wl);
    }
    r.appendChild(el('h2', tr('p_fields')));
    var f = el('table'); f.id = 'preview-fields';
    heads(f, [tr('p_field'), tr('p_type'), tr('p_column')]);
    (i.fields || []).forEach(function (fl, k) { var x = el('tr'); x.appendChild(el('td', fl.name)); x.appendChild(el('td', fl.type)); x.appendChild(el('td', p.attributes[k])); f.appendChild(x); });
    r.appendChild(f);
    var feats = (p.features && p.features.features) || [];
    if (feats.length) {
      r.appendChild(el('h2', tr('p_first')));
      var wrap = el('div', null, 'scroll'); wrap.tabIndex = 0; wrap.setAttribute('role', 'region'); wrap.setAttribute('aria-label', tr('p_first'));
      var ft = el('table'); ft.id = 'preview-features';
      var names = (i.fields || []).slice(0, 6).map(function (x) { return x.name; });
      heads(ft, ['#'].concat(names));
      feats.slice(0, 10).forEach(function (ff) { var x = el('tr'); x.appendChild(el('td', String(ff.id))); names.forEach(function (n) { var v = ff.properties[n]; x.appendChild(el('td', v == null ? '' : String(v))); }); ft.appendChild(x); });
      wrap.appendChild(ft); r.appendChild(wrap);
    }
    if ((p.rejections || []).length) {
      r.appendChild(el('h2', tr('p_problems')));
      var pl = el('ul', null, 'warn'); pl.id = 'preview-rejections';
      p.rejections.forEach(function (x) { pl.appendChild(el('li', tr('p_record') + ' ' + x.record + ': ' + x.reason)); });
      r.appendChild(pl);
    }
    drawMap(feats, p.city);
  }

  function showReport(rep) {
    if (rep.layers) return showLayers(rep, false);
    var r = $('result'); r.textContent = '';
    r.appendChild(el('h2', tr('r_done')));
    var t = el('table'); t.id = 'report';
    row(t, tr('r_layer'), rep.layer + ' (' + rep.mode + ')'); row(t, tr('r_status'), tr('status_' + rep.status));
    row(t, tr('r_read'), String(rep.read)); row(t, tr('r_written'), String(rep.written));
    row(t, tr('r_repaired'), String(rep.repaired)); row(t, tr('r_rejected'), String(rep.rejected));
    row(t, tr('r_time'), String(rep.duration));
    r.appendChild(t);
    var ul = el('ul', null, 'warn');
    (rep.rejections || []).slice(0, 50).forEach(function (x) { ul.appendChild(el('li', tr('p_record') + ' ' + x.record + ': ' + x.reason)); });
    (rep.warnings || []).forEach(function (w) { ul.appendChild(el('li', w)); });
    if (ul.firstChild) r.appendChild(ul);
    if (rep.status !== 'ok') return;
    // A link to the map, centred on the new data.
    fetch('/api/layers/' + encodeURIComponent(rep.layer), { credentials: 'same-origin' }).then(function (x) { return x.ok ? x.json() : null; }).then(function (l) {
      var hash = 'layers=' + encodeURIComponent(rep.layer) + '&lang=' + lang;
      var b = l && (l.bbox || (l.layer && l.layer.bbox));
      if (b && b.length === 4) {
        var span = Math.max(b[2] - b[0], b[3] - b[1], 1e-4);
        var z = Math.max(1, Math.min(17, Math.floor(Math.log2(360 / span))));
        hash = 'map=' + z + '/' + ((b[1] + b[3]) / 2).toFixed(5) + '/' + ((b[0] + b[2]) / 2).toFixed(5) + '&' + hash;
      }
      var a = el('a', tr('open_map')); a.id = 'open-map'; a.href = '/#' + hash;
      var p = el('p'); p.appendChild(a); r.appendChild(p);
    }).catch(function () {});
  }

  // A small map of the previewed features over the city's outline (so that data in the wrong
  // place shows as far from the city): equirectangular, scaled to the extent of both.
  function drawMap(feats, city) {
    var svg = $('minimap'); while (svg.firstChild) svg.removeChild(svg.firstChild);
    var pts = [];
    function walk(c, f) { if (typeof c[0] === 'number') f(c); else c.forEach(function (x) { walk(x, f); }); }
    feats.forEach(function (f) { if (f.geometry) walk(f.geometry.coordinates, function (p) { pts.push(p); }); });
    $('minimap-legend').hidden = !city || !pts.length;
    if (!pts.length) { svg.hidden = true; return; }
    if (city) walk(city.coordinates, function (p) { pts.push(p); });
    svg.hidden = false;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    pts.forEach(function (p) { x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]); y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]); });
    var k = Math.cos((y0 + y1) / 2 * Math.PI / 180), w = Math.max((x1 - x0) * k, 1e-9), h = Math.max(y1 - y0, 1e-9);
    var s = Math.min(580 / w, 380 / h);
    function X(p) { return (10 + (p[0] - x0) * k * s).toFixed(1); }
    function Y(p) { return (390 - (p[1] - y0) * s).toFixed(1); }
    var NS = 'http://www.w3.org/2000/svg';
    function ring(r) { return r.map(function (p, i) { return (i ? 'L' : 'M') + X(p) + ' ' + Y(p); }).join(''); }
    var bg = document.createElementNS(NS, 'rect'); bg.setAttribute('width', 600); bg.setAttribute('height', 400); bg.setAttribute('class', 'ground');
    svg.appendChild(bg);
    if (city) {
      var cp = city.type === 'Polygon' ? [city.coordinates] : city.type === 'MultiPolygon' ? city.coordinates : [];
      var ce = document.createElementNS(NS, 'path'); ce.setAttribute('class', 'city'); ce.id = 'minimap-city';
      ce.setAttribute('d', cp.map(function (p) { return p.map(function (r) { return ring(r) + 'Z'; }).join(''); }).join(''));
      svg.appendChild(ce);
      // A city 7,000 km from the data is a dot at this scale: a ring marks where it is.
      var cx0 = Infinity, cy0 = Infinity, cx1 = -Infinity, cy1 = -Infinity;
      walk(city.coordinates, function (p) { var x = +X(p), y = +Y(p); cx0 = Math.min(cx0, x); cx1 = Math.max(cx1, x); cy0 = Math.min(cy0, y); cy1 = Math.max(cy1, y); });
      if (cx1 - cx0 < 12 && cy1 - cy0 < 12) {
        var mk = document.createElementNS(NS, 'circle'); mk.setAttribute('class', 'city-mark');
        mk.setAttribute('cx', ((cx0 + cx1) / 2).toFixed(1)); mk.setAttribute('cy', ((cy0 + cy1) / 2).toFixed(1)); mk.setAttribute('r', 9);
        svg.appendChild(mk);
      }
    }
    feats.forEach(function (f) {
      var g = f.geometry; if (!g) return;
      var polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
      if (polys.length) { // one path per feature, its parts and holes together
        var e = document.createElementNS(NS, 'path');
        e.setAttribute('d', polys.map(function (p) { return p.map(function (r) { return ring(r) + 'Z'; }).join(''); }).join(''));
        e.setAttribute('fill-rule', 'evenodd'); svg.appendChild(e);
      }
      var lines = g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates : [];
      lines.forEach(function (l) { var e = document.createElementNS(NS, 'path'); e.setAttribute('d', ring(l)); e.setAttribute('class', 'line'); svg.appendChild(e); });
      var points = g.type === 'Point' ? [g.coordinates] : g.type === 'MultiPoint' ? g.coordinates : [];
      points.forEach(function (p) { var e = document.createElementNS(NS, 'circle'); e.setAttribute('cx', X(p)); e.setAttribute('cy', Y(p)); e.setAttribute('r', 3); svg.appendChild(e); });
    });
  }
})();
