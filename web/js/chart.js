// A small SVG time-series chart: the last N samples as a line with its maximum.
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export class Sparkline {
  constructor({width = 320, height = 80, capacity = 120, unit = '/s'} = {}) {
    this.width = width;
    this.height = height;
    this.capacity = capacity;
    this.unit = unit;
    this.values = [];
    this.node = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
      preserveAspectRatio: 'none'});
    this.area = svg('path', {class: 'chart-area'});
    this.line = svg('polyline', {class: 'chart-line', fill: 'none'});
    this.maxLabel = svg('text', {x: 4, y: 12, class: 'chart-label'});
    this.node.append(svg('line', {x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'chart-axis'}),
      this.area, this.line, this.maxLabel);
  }

  push(v) {
    this.values.push(Number.isFinite(v) ? v : 0);
    if (this.values.length > this.capacity) this.values.shift();
    this.draw();
  }

  draw() {
    const n = this.values.length;
    const max = Math.max(1, ...this.values);
    const step = this.width / Math.max(1, this.capacity - 1);
    const x0 = this.width - (n - 1) * step;
    const pts = this.values.map((v, i) => {
      const x = x0 + i * step;
      const y = this.height - 2 - (v / max) * (this.height - 18);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    this.line.setAttribute('points', pts.join(' '));
    this.area.setAttribute('d', n ? `M${x0.toFixed(1)},${this.height} L${pts.join(' L')} L${this.width},${this.height} Z` : '');
    this.maxLabel.textContent = `max ${formatNumber(max)}${this.unit}`;
  }
}

export function formatNumber(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(1);
}
