// A small line chart of rates (points of { t, perSecond }), as SVG built node by node.
import { duration, h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 48;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/**
 * Lines for several series over the same time axis (up to the last `windowMs`), scaled to the
 * highest rate of any; a legend with each series' latest rate.
 */
export function rateChart(series, windowMs) {
  const now = Date.now();
  // The axis spans what was sampled (a minute at least), up to the whole window.
  const oldest = Math.min(now, ...series.flatMap((s) => s.points.map((p) => p.t)));
  const span = Math.min(windowMs, Math.max(60_000, now - oldest));
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.perSecond)));
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, class: 'chart', role: 'img' });
  chart.append(svg('line', { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: 'axis' }));
  for (const s of series) {
    if (s.points.length === 0) continue;
    const coords = s.points.map((p) => {
      const x = WIDTH - ((now - p.t) / span) * WIDTH;
      const y = HEIGHT - 2 - (p.perSecond / max) * (HEIGHT - 4);
      return `${Math.max(0, x).toFixed(1)},${y.toFixed(1)}`;
    });
    chart.append(svg('polyline', { points: coords.join(' '), class: `line ${s.className}` }));
  }
  const title = document.createElementNS(SVG, 'title');
  title.textContent = `peak ${max.toFixed(1)}/s over the last ${Math.round(span / 1000)} s`;
  chart.append(title);
  const legend = h(
    'div',
    { class: 'legend' },
    series.map((s) => h('span', { class: `key ${s.className}` }, `${s.label} ${latest(s.points)}/s`)),
    h('span', { class: 'peak' }, `peak ${max.toFixed(1)}/s, last ${duration(span)}`),
  );
  return h('div', { class: 'rate' }, chart, legend);
}

function latest(points) {
  return points.length === 0 ? '–' : points[points.length - 1].perSecond.toFixed(1);
}
