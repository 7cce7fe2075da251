// Two small SVG charts, drawn by hand: coverage by distance (a line) and the gain of each added
// site (bars, with the cumulative share as a line). Each chart is an image with a text
// alternative, followed by its data as a table for screen readers and keyboard users.

import { h, s } from './dom.js';

const W = 360;
const H = 200;
const M = { top: 12, right: 44, bottom: 34, left: 48 };
const IW = W - M.left - M.right;
const IH = H - M.top - M.bottom;

function ticks(max, n = 4) {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((x) => x >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(v);
  return out;
}

function frame(label, desc) {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${label}. ${desc}` },
    s('title', {}, label), s('desc', {}, desc));
}

function axisY(svg, maxV, fmt, x = M.left, anchor = 'end', dx = -6) {
  for (const v of ticks(maxV)) {
    const y = M.top + IH - (v / maxV) * IH;
    if (x === M.left) svg.append(s('line', { x1: M.left, x2: M.left + IW, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: x + dx, y: y + 4, 'text-anchor': anchor, class: 'tick' }, fmt(v)));
  }
}

/**
 * coverageChart draws the covered share (0..1) against distance. points: [{distance,
 * covered_share}]; mark: the distance asked for, drawn as a dashed line.
 */
export function coverageChart(points, mark, { label, desc, fmtShare, fmtDist, headers }) {
  const svg = frame(label, desc);
  const maxD = Math.max(...points.map((p) => p.distance));
  const x = (d) => M.left + (d / maxD) * IW;
  const y = (v) => M.top + IH - v * IH;
  axisY(svg, 1, (v) => fmtShare(v));
  for (const d of ticks(maxD)) {
    svg.append(s('text', { x: x(d), y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, fmtDist(d)));
  }
  svg.append(s('line', { x1: M.left, x2: M.left + IW, y1: M.top + IH, y2: M.top + IH, class: 'axis' }));
  if (mark) svg.append(s('line', { x1: x(mark), x2: x(mark), y1: M.top, y2: M.top + IH, class: 'mark' }));
  const path = [[0, 0], ...points.map((p) => [p.distance, p.covered_share])]
    .map(([d, v], i) => `${i ? 'L' : 'M'}${x(d).toFixed(1)},${y(v).toFixed(1)}`).join('');
  svg.append(s('path', { d: path, class: 'line' }));
  for (const p of points) svg.append(s('circle', { cx: x(p.distance), cy: y(p.covered_share), r: 3, class: 'dot' }));
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, label), svg,
    dataTable(headers, points.map((p) => [fmtDist(p.distance), fmtShare(p.covered_share)])));
}

/**
 * gainChart draws each site's gain as a bar (left axis) and the cumulative share as a line
 * (right axis). sites: [{rank, gain, cumulative_share}].
 */
export function gainChart(sites, { label, desc, fmtGain, fmtShare, headers }) {
  const svg = frame(label, desc);
  const n = sites.length;
  const maxG = Math.max(...sites.map((p) => p.gain), 1);
  const band = IW / Math.max(n, 1);
  const yG = (v) => M.top + IH - (v / maxG) * IH;
  const yS = (v) => M.top + IH - v * IH;
  axisY(svg, maxG, fmtGain);
  for (const v of [0, 0.5, 1]) {
    svg.append(s('text', { x: M.left + IW + 6, y: yS(v) + 4, 'text-anchor': 'start', class: 'tick share' }, fmtShare(v)));
  }
  sites.forEach((p, i) => {
    svg.append(s('rect', { x: M.left + i * band + band * 0.15, width: Math.max(band * 0.7, 0.5), y: yG(p.gain), height: M.top + IH - yG(p.gain), class: 'bar' }));
  });
  const every = Math.ceil(n / 10);
  sites.forEach((p, i) => {
    if (i % every === 0 || i === n - 1) {
      svg.append(s('text', { x: M.left + (i + 0.5) * band, y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, String(p.rank)));
    }
  });
  svg.append(s('line', { x1: M.left, x2: M.left + IW, y1: M.top + IH, y2: M.top + IH, class: 'axis' }));
  const path = sites.map((p, i) => `${i ? 'L' : 'M'}${(M.left + (i + 0.5) * band).toFixed(1)},${yS(p.cumulative_share).toFixed(1)}`).join('');
  svg.append(s('path', { d: path, class: 'line share' }));
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, label), svg,
    dataTable(headers, sites.map((p) => [String(p.rank), fmtGain(p.gain), fmtShare(p.cumulative_share)])));
}

function dataTable(headers, rows) {
  return h('details', { class: 'chart-data' }, h('summary', {}, headers.summary),
    h('table', {}, h('thead', {}, h('tr', {}, headers.cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}
