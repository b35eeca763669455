// The fleet as one canvas: a cell per node, in registration order, its mark drawn by state.
// One canvas rather than an element per node keeps 10,000 nodes cheap: a change redraws only
// its own cell, and a layout change redraws the whole canvas once.

import { background, drawMark } from './states.js';

// Largest cell first: the grid takes the largest that fits the fleet in `maxHeight`.
const cellSizes = [20, 16, 12, 10, 8, 6, 5, 4];
const maxHeight = 520;

export class Grid {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    this.size = cellSizes[0];
    this.gap = 2;
    this.columns = 1;
    this.width = 0;
    /** @type {string | undefined} the selected node, drawn with a ring */
    this.selected = undefined;
  }

  /**
   * Picks the cell size for `count` nodes in the canvas's width and sizes the canvas.
   * @param {number} count
   */
  layout(count) {
    const width = Math.max(this.canvas.parentElement?.clientWidth ?? 300, 100);
    for (const size of cellSizes) {
      this.size = size;
      this.gap = size >= 8 ? 2 : 1;
      this.columns = Math.max(1, Math.floor((width - this.gap) / (size + this.gap)));
      if (Math.ceil(count / this.columns) * (size + this.gap) <= maxHeight) break;
    }
    const rows = Math.max(1, Math.ceil(count / this.columns));
    const height = rows * (this.size + this.gap) + this.gap;
    const ratio = window.devicePixelRatio || 1;
    this.width = width;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  /**
   * Redraws every cell.
   * @param {import('./fleet.js').Fleet} fleet
   */
  drawAll(fleet) {
    this.ctx.fillStyle = background;
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    for (const node of fleet.order) this.drawNode(node);
    this.drawSelection(fleet);
  }

  /**
   * Redraws the cells at these places in the grid.
   * @param {import('./fleet.js').Fleet} fleet
   * @param {Iterable<number>} indices
   */
  drawCells(fleet, indices) {
    for (const index of indices) {
      const node = fleet.order[index];
      if (node !== undefined) this.drawNode(node);
    }
  }

  /** @param {import('./fleet.js').GridNode} node */
  drawNode(node) {
    const { x, y } = this.cellRect(node.index);
    drawMark(this.ctx, node.state, x, y, this.size);
  }

  /**
   * A ring in the gap around the selected cell: drawing a cell never covers it.
   * @param {import('./fleet.js').Fleet} fleet
   */
  drawSelection(fleet) {
    const node = this.selected === undefined ? undefined : fleet.nodes.get(this.selected);
    if (node === undefined) return;
    const { x, y, size } = this.cellRect(node.index);
    this.ctx.strokeStyle = '#d4004b';
    this.ctx.lineWidth = this.gap;
    this.ctx.setLineDash([]);
    const half = this.gap / 2;
    this.ctx.strokeRect(x - half, y - half, size + this.gap, size + this.gap);
  }

  /**
   * Where the cell at `index` is, in CSS pixels of the canvas.
   * @param {number} index
   */
  cellRect(index) {
    const pitch = this.size + this.gap;
    const column = index % this.columns;
    const row = Math.floor(index / this.columns);
    return { x: this.gap + column * pitch, y: this.gap + row * pitch, size: this.size };
  }

  /**
   * The place in the grid under a pointer, or -1 between cells.
   * @param {number} clientX
   * @param {number} clientY
   */
  indexAt(clientX, clientY) {
    const box = this.canvas.getBoundingClientRect();
    const pitch = this.size + this.gap;
    const x = clientX - box.left - this.gap;
    const y = clientY - box.top - this.gap;
    if (x < 0 || y < 0) return -1;
    const column = Math.floor(x / pitch);
    if (column >= this.columns || x - column * pitch > this.size) return -1;
    return Math.floor(y / pitch) * this.columns + column;
  }
}
