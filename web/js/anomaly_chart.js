// An SVG chart of one scored series: the values as a line with a dot per point,
// the detector's lower and upper bounds as two lines around a shaded band, and
// flagged points as red rings. Keeps the last `capacity` points.
//
// The <svg> carries counters as data attributes (data-received, data-points,
// data-bounds, data-anomalies) so tests and tools can follow it without parsing
// coordinates.
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// Drawable numbers: beyond 1e300 the scaling overflows (the detector refuses |x| > 1e150
// anyway; larger ones can only come from another publisher on the topic).
const finite = (x) => typeof x === 'number' && Math.abs(x) <= 1e300;

/** Rounds for labels: 3 significant digits, no exponent for everyday ranges. */
export function formatValue(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1e6) return v.toExponential(2);
  const a = Math.abs(v);
  if (a >= 1000 || a === 0) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** The y range [lo, hi] of the points' values and bounds, padded by 5%. */
export function yRange(points) {
  let lo = Infinity, hi = -Infinity;
  for (const p of points) {
    for (const v of [p.value, p.lower, p.upper]) {
      if (finite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  if (lo === Infinity) return [0, 1];
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

export class BandChart {
  constructor({width = 760, height = 220, capacity = 240} = {}) {
    this.width = width;
    this.height = height;
    this.capacity = capacity;
    this.points = [];
    this.counts = {received: 0, bounds: 0, anomalies: 0};
    this.left = 44;  // room for the y labels
    this.node = svg('svg', {viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img',
      class: 'anomaly-chart', 'data-received': 0, 'data-points': 0, 'data-bounds': 0,
      'data-anomalies': 0});
    this.grid = svg('g', {'data-role': 'grid'});
    this.band = svg('path', {'data-role': 'band', fill: 'rgba(42, 122, 176, .13)', stroke: 'none'});
    const line = (role, color, dash) => svg('polyline', {'data-role': role, fill: 'none', stroke: color,
      'stroke-width': role === 'value' ? 1.6 : 1.1, 'stroke-dasharray': dash || 'none'});
    this.upper = line('upper', '#2a7ab0', '4 3');
    this.lower = line('lower', '#2a7ab0', '4 3');
    this.value = line('value', '#1d2733');
    this.dots = svg('g', {'data-role': 'dots'});
    this.rings = svg('g', {'data-role': 'rings'});
    this.node.append(this.grid, this.band, this.upper, this.lower, this.value, this.dots, this.rings);
  }

  /** p: {value, lower, upper, anomaly, warmingUp, score, label}. */
  push(p) {
    this.counts.received++;
    if (finite(p.lower) && finite(p.upper)) this.counts.bounds++;
    if (p.anomaly) this.counts.anomalies++;
    this.points.push(p);
    if (this.points.length > this.capacity) this.points.shift();
    this.draw();
  }

  draw() {
    const pts = this.points, n = pts.length;
    const [lo, hi] = yRange(pts);
    const top = 8, bottom = this.height - 18;
    const step = (this.width - this.left - 8) / Math.max(1, this.capacity - 1);
    const x = (i) => this.left + (this.capacity - n + i) * step;
    const y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    const xy = (i, v) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`;

    this.drawGrid(lo, hi, y);
    const withBounds = [];
    pts.forEach((p, i) => { if (finite(p.lower) && finite(p.upper)) withBounds.push(i); });
    this.upper.setAttribute('points', withBounds.map((i) => xy(i, pts[i].upper)).join(' '));
    this.lower.setAttribute('points', withBounds.map((i) => xy(i, pts[i].lower)).join(' '));
    this.upper.dataset.count = withBounds.length;
    this.lower.dataset.count = withBounds.length;
    this.band.setAttribute('d', withBounds.length < 2 ? '' :
      'M' + withBounds.map((i) => xy(i, pts[i].upper)).join(' L') + ' L' +
      withBounds.slice().reverse().map((i) => xy(i, pts[i].lower)).join(' L') + ' Z');
    const valued = [];
    pts.forEach((p, i) => { if (finite(p.value)) valued.push(i); });
    this.value.setAttribute('points', valued.map((i) => xy(i, pts[i].value)).join(' '));
    this.value.dataset.count = valued.length;

    // One dot per point (reused), one ring per flagged point in the window.
    while (this.dots.childNodes.length < valued.length) {
      const c = svg('circle', {r: 2, 'data-role': 'point'});
      c.append(svg('title'));
      this.dots.append(c);
    }
    while (this.dots.childNodes.length > valued.length) this.dots.lastChild.remove();
    valued.forEach((i, k) => {
      const p = pts[i], c = this.dots.childNodes[k];
      c.setAttribute('cx', x(i).toFixed(1));
      c.setAttribute('cy', y(p.value).toFixed(1));
      c.setAttribute('fill', p.warmingUp ? '#fff' : '#1d2733');
      c.setAttribute('stroke', '#1d2733');
      c.dataset.value = p.value;
      c.dataset.warmingUp = p.warmingUp ? 'true' : 'false';
      c.firstChild.textContent = `${p.label ? p.label + ': ' : ''}${formatValue(p.value)}` +
        (finite(p.lower) ? ` (bounds ${formatValue(p.lower)} .. ${formatValue(p.upper)})` : '') +
        (p.warmingUp ? ', warming up' : '');
    });
    this.rings.replaceChildren(...valued.filter((i) => pts[i].anomaly).map((i) => {
      const ring = svg('circle', {cx: x(i).toFixed(1), cy: y(pts[i].value).toFixed(1), r: 6,
        fill: 'none', stroke: '#c62828', 'stroke-width': 2, 'data-role': 'anomaly',
        'data-value': pts[i].value});
      const t = svg('title');
      t.textContent = `anomaly: ${formatValue(pts[i].value)} (score ${formatValue(pts[i].score)})`;
      ring.append(t);
      return ring;
    }));

    const d = this.node.dataset;
    d.received = this.counts.received;
    d.points = valued.length;
    d.bounds = withBounds.length;
    d.anomalies = this.counts.anomalies;
  }

  drawGrid(lo, hi, y) {
    const g = [];
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4, yy = y(v).toFixed(1);
      g.push(svg('line', {x1: this.left, x2: this.width - 4, y1: yy, y2: yy, stroke: '#d9e0e7'}));
      const t = svg('text', {x: this.left - 4, y: Number(yy) + 3, 'text-anchor': 'end',
        'font-size': 10, fill: '#66727f'});
      t.textContent = formatValue(v);
      g.push(t);
    }
    const t = svg('text', {x: this.width - 4, y: this.height - 4, 'text-anchor': 'end', 'font-size': 10,
      fill: '#66727f'});
    t.textContent = `last ${this.points.length} of ${this.counts.received} points`;
    g.push(t);
    this.grid.replaceChildren(...g);
  }
}
