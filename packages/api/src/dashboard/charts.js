// @ts-check
// Two small SVG charts, drawn by hand: a dashboard of a few lines and bars needs no library, and
// the page has to work offline. Every element is built with the DOM, never from markup, so a
// device name cannot inject anything.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 56 };
export const SERIES_COLOURS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** @param {number} value */
function shortNumber(value) {
  const size = Math.abs(value);
  if (size >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (size >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (size >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value.toFixed(0);
}

/** An empty chart's axis: wide enough that its ticks are whole numbers. */
const EMPTY_AXIS_TOP = 1000;

/**
 * A y axis from 0 (or the lowest value, when negative) to a little above the highest.
 * @param {number} low
 * @param {number} high
 */
function yScale(low, high) {
  const bottom = Math.min(0, low);
  const top = high <= bottom ? bottom + 1 : high + (high - bottom) * 0.05;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  return {
    bottom,
    top,
    /** @param {number} value */
    y: (value) => MARGIN.top + plotHeight - ((value - bottom) / (top - bottom)) * plotHeight,
  };
}

/**
 * @param {SVGElement} svg
 * @param {{ bottom: number, top: number, y: (value: number) => number }} scale
 * @param {string} unit
 */
function drawYAxis(svg, scale, unit) {
  for (let i = 0; i <= 4; i++) {
    const value = scale.bottom + ((scale.top - scale.bottom) * i) / 4;
    const y = scale.y(value);
    svg.append(
      svgElement('line', {
        x1: MARGIN.left,
        x2: WIDTH - MARGIN.right,
        y1: y,
        y2: y,
        class: 'grid',
      }),
      svgElement(
        'text',
        { x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' },
        `${shortNumber(value)} ${unit}`,
      ),
    );
  }
}

/** @param {number} ms */
function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * A line per series over a time window; each point is a circle-less vertex of a polyline whose
 * `data-points` attribute says how many points it has (the browser test reads it).
 * @param {{ name: string, points: { timeMs: number, value: number }[] }[]} series
 * @param {{ fromMs: number, toMs: number, unit: string }} range
 * @returns {SVGElement}
 */
export function lineChart(series, range) {
  const svg = svgElement('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart line-chart',
    role: 'img',
  });
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  const scale = yScale(
    Math.min(0, ...values),
    values.length === 0 ? EMPTY_AXIS_TOP : Math.max(...values),
  );
  drawYAxis(svg, scale, range.unit);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  /** @param {number} ms */
  const x = (ms) => MARGIN.left + ((ms - range.fromMs) / (range.toMs - range.fromMs)) * plotWidth;
  for (let i = 0; i <= 4; i++) {
    const ms = range.fromMs + ((range.toMs - range.fromMs) * i) / 4;
    svg.append(
      svgElement(
        'text',
        { x: x(ms), y: HEIGHT - 8, 'text-anchor': 'middle', class: 'tick' },
        clock(ms),
      ),
    );
  }
  series.forEach((s, index) => {
    const points = s.points
      .filter((p) => p.timeMs >= range.fromMs && p.timeMs <= range.toMs)
      .map((p) => `${x(p.timeMs).toFixed(1)},${scale.y(p.value).toFixed(1)}`);
    const line = svgElement('polyline', {
      points: points.join(' '),
      fill: 'none',
      stroke: SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#000',
      'stroke-width': 1.5,
      class: 'series',
      'data-series': s.name,
      'data-points': points.length,
    });
    line.append(svgElement('title', {}, s.name));
    svg.append(line);
  });
  if (values.length === 0)
    svg.append(
      svgElement(
        'text',
        { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'empty' },
        'no readings in this window',
      ),
    );
  return svg;
}

/**
 * Grouped bars: one group per label (a day), one bar per measure (production, consumption ...).
 * A missing value draws no bar; each bar carries its value in `data-value`.
 * @param {{ label: string, values: (number | null)[] }[]} groups
 * @param {string[]} measures
 * @param {string} unit
 * @returns {SVGElement}
 */
export function barChart(groups, measures, unit) {
  const svg = svgElement('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart bar-chart',
    role: 'img',
  });
  const values = groups.flatMap((g) => g.values.filter((v) => v !== null));
  const scale = yScale(0, values.length === 0 ? EMPTY_AXIS_TOP : Math.max(...values));
  drawYAxis(svg, scale, unit);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const groupWidth = plotWidth / Math.max(1, groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, measures.length);
  groups.forEach((group, g) => {
    const left = MARGIN.left + g * groupWidth + groupWidth * 0.1;
    group.values.forEach((value, m) => {
      if (value === null) return;
      const top = scale.y(value);
      const bar = svgElement('rect', {
        x: left + m * barWidth,
        y: top,
        width: Math.max(1, barWidth - 2),
        height: Math.max(0, scale.y(0) - top),
        fill: SERIES_COLOURS[m % SERIES_COLOURS.length] ?? '#000',
        class: 'bar',
        'data-measure': measures[m] ?? '',
        'data-value': value,
      });
      bar.append(
        svgElement(
          'title',
          {},
          `${group.label} ${measures[m] ?? ''}: ${shortNumber(value)} ${unit}`,
        ),
      );
      svg.append(bar);
    });
    svg.append(
      svgElement(
        'text',
        { x: left + groupWidth * 0.4, y: HEIGHT - 8, 'text-anchor': 'middle', class: 'tick' },
        group.label,
      ),
    );
  });
  if (values.length === 0)
    svg.append(
      svgElement(
        'text',
        { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'empty' },
        'no closed quarter hour in these days yet',
      ),
    );
  return svg;
}
