// Counts per state over time, drawn on a canvas as four small charts, one per state, each on
// its own scale: ten isolated nodes stay visible beside ten thousand online ones. Each has
// its mark, name, current count and line pattern, so the colour is not needed to tell them
// apart.

import { drawMark, stateNames, stateStyles } from './states.js';

const bandHeight = 56;
const labelWidth = 150;

/**
 * @param {HTMLCanvasElement} canvas
 * @param {Array<{ tick: number, at: number, states: Record<string, number> }>} history
 */
export function drawChart(canvas, history) {
  const width = Math.max(canvas.parentElement?.clientWidth ?? 300, 200);
  const height = stateNames.length * bandHeight;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const plotWidth = width - labelWidth - 8;
  stateNames.forEach((state, band) => {
    const top = band * bandHeight;
    const style = stateStyles[state];
    const values = history.map((point) => point.states[state] ?? 0);
    const now = values.at(-1);
    const max = Math.max(1, ...values);
    drawMark(ctx, state, 4, top + bandHeight / 2 - 14, 12);
    ctx.fillStyle = '#222';
    ctx.fillText(state, 22, top + bandHeight / 2 - 8);
    ctx.fillText(now === undefined ? '–' : now.toLocaleString('en'), 22, top + bandHeight / 2 + 10);
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    ctx.strokeRect(labelWidth + 0.5, top + 4.5, plotWidth, bandHeight - 9);
    ctx.fillStyle = '#666';
    ctx.fillText(`max ${max.toLocaleString('en')}`, labelWidth + 6, top + 14);
    if (values.length < 2) return;
    const x = (/** @type {number} */ i) => labelWidth + (i / (values.length - 1)) * plotWidth;
    const y = (/** @type {number} */ v) => top + bandHeight - 6 - (v / max) * (bandHeight - 12);
    ctx.strokeStyle = style.colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(style.dash);
    ctx.beginPath();
    values.forEach((value, i) => {
      if (i === 0) ctx.moveTo(x(i), y(value));
      else ctx.lineTo(x(i), y(value));
    });
    ctx.stroke();
  });
  ctx.setLineDash([]);
}
