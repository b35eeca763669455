// The four lifecycle states as the dashboard draws them. Colours are from the Okabe–Ito
// palette, chosen to stay apart under the common colour-vision deficiencies; each state also
// has its own shape (in the grid, the legend and the chart's labels) and line pattern (in the
// chart), so colour is never the only cue.

/** @typedef {'online' | 'overloaded' | 'isolated' | 'offline'} NodeState */

/** @type {readonly NodeState[]} */
export const stateNames = ['online', 'overloaded', 'isolated', 'offline'];

/**
 * @type {Readonly<Record<NodeState, { colour: string, shape: string,
 *   dash: number[], description: string }>>}
 */
export const stateStyles = {
  online: {
    colour: '#009E73', // bluish green
    shape: 'filled square',
    dash: [],
    description: 'beating, load under the high-water mark',
  },
  overloaded: {
    colour: '#E69F00', // orange
    shape: 'triangle',
    dash: [6, 3],
    description: 'load over the high-water mark for several ticks',
  },
  isolated: {
    colour: '#0072B2', // blue
    shape: 'crossed square',
    dash: [8, 3, 2, 3],
    description: 'taken out of service until reinstated',
  },
  offline: {
    colour: '#000000', // black
    shape: 'hollow square',
    dash: [2, 3],
    description: 'silent for longer than the heartbeat timeout',
  },
};

/** The background the shapes are cut out of; the grid and the legend share it. */
export const background = '#ffffff';

/**
 * Draws one node's mark in the box at (x, y) of side `size`.
 * @param {CanvasRenderingContext2D} ctx
 * @param {NodeState} state
 * @param {number} x
 * @param {number} y
 * @param {number} size
 */
export function drawMark(ctx, state, x, y, size) {
  const style = stateStyles[state] ?? stateStyles.offline;
  ctx.fillStyle = background;
  ctx.fillRect(x, y, size, size);
  ctx.fillStyle = style.colour;
  ctx.strokeStyle = style.colour;
  ctx.setLineDash([]); // the chart draws marks between dashed lines
  const line = size >= 10 ? 2 : 1;
  switch (state) {
    case 'online':
      ctx.fillRect(x, y, size, size);
      break;
    case 'overloaded':
      ctx.beginPath();
      ctx.moveTo(x + size / 2, y);
      ctx.lineTo(x + size, y + size);
      ctx.lineTo(x, y + size);
      ctx.closePath();
      ctx.fill();
      break;
    case 'isolated':
      ctx.fillRect(x, y, size, size);
      // A white cross through the square: isolated reads apart from online without colour.
      if (size >= 6) {
        ctx.strokeStyle = background;
        ctx.lineWidth = line;
        ctx.beginPath();
        ctx.moveTo(x + line, y + line);
        ctx.lineTo(x + size - line, y + size - line);
        ctx.moveTo(x + size - line, y + line);
        ctx.lineTo(x + line, y + size - line);
        ctx.stroke();
      }
      break;
    default:
      ctx.lineWidth = line;
      ctx.strokeRect(x + line / 2, y + line / 2, size - line, size - line);
  }
}
