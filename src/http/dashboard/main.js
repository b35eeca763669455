// The dashboard's entry: asks for the operator's token when the server wants one, reads a
// snapshot of the fleet, then follows `/v1/events`, resuming it after a disconnection. Events
// are queued as they come and applied once per animation frame, so the page keeps up with
// bursts from large fleets.

import {
  getAllNodes,
  getJson,
  initialToken,
  NeedsTokenError,
  readEvents,
  saveToken,
} from './api.js';
import { drawChart } from './chart.js';
import { Fleet } from './fleet.js';
import { Grid } from './grid.js';
import { buildLegend, renderActions, renderDetails, renderRules, updateLegend } from './panels.js';
import { showStatus, showTokenForm, updateStatusLine } from './status.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const fleet = new Fleet();
const grid = new Grid(/** @type {HTMLCanvasElement} */ ($('grid')));
const chart = /** @type {HTMLCanvasElement} */ ($('chart'));
let token = initialToken();
/** @type {Array<[string, unknown]>} events waiting for the next frame */
let queue = [];
let frame = 0;
let ready = false;
let resyncing = false;
let lastResync = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let resyncTimer;
// Under constant churn counts may disagree on every tick: read the fleet at most this often.
const resyncEveryMs = 2000;

// For the browser tests and for anyone curious in the console; the page never reads it.
Object.assign(window, { wyneosDashboard: { fleet, grid } });

buildLegend($('legend'));

/** Applies the queued events and redraws what they changed, at most once a frame. */
function scheduleFrame() {
  if (frame === 0) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  if (ready) {
    for (const [name, data] of queue) fleet.apply(name, data);
    queue = [];
  }
  const dirty = fleet.takeDirty();
  if (dirty.layout) {
    grid.layout(fleet.order.length);
    grid.drawAll(fleet);
  } else if (dirty.cells.size > 0) {
    grid.drawCells(fleet, dirty.cells);
  }
  if (dirty.counts) updateLegend($('legend'), fleet.counts);
  if (dirty.chart) drawChart(chart, fleet.history);
  if (dirty.actions) renderActions($('actions'), fleet.actions);
  if (dirty.rules) renderRules($('rules'), fleet.report);
  if (dirty.status || dirty.counts || dirty.rules) updateStatusLine($('summary'), fleet);
  if (grid.selected !== undefined && dirty.nodes.has(grid.selected)) void showNode(grid.selected);
  if (fleet.stale && !resyncing && resyncTimer === undefined) {
    const wait = Math.max(0, lastResync + resyncEveryMs - Date.now());
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      resync().catch(failed);
    }, wait);
  }
}

/** Reads the whole fleet again (after a gap, or when counts disagree), then applies the queue. */
async function resync() {
  resyncing = true;
  ready = false;
  lastResync = Date.now();
  try {
    const [nodes, report, actions] = await Promise.all([
      getAllNodes(token),
      getJson('v1/report', token),
      getJson('v1/actions?limit=10000', token),
    ]);
    fleet.reset(nodes, report.report, actions.actions);
    ready = true;
  } finally {
    resyncing = false;
    scheduleFrame();
  }
}

/**
 * Follows the event stream for good: after a failure it waits and resumes from the last event
 * read, so nothing is read again; when the server cannot resume (`reset`, after a restart or a
 * long absence) it reads the whole fleet afresh.
 */
async function follow() {
  let wait = 500;
  const cursor = { lastEventId: '' };
  for (;;) {
    const controller = new AbortController();
    try {
      // A fresh stream opens first and queues what happens while the snapshot is read: the
      // snapshot then never misses an event, and `Fleet.transition` skips what it holds.
      await readEvents(
        token,
        controller.signal,
        (name, data) => {
          if (name === 'reset') {
            // What is queued is older than the snapshot about to be read.
            queue = [];
            void resync().catch(failed);
            return;
          }
          queue.push([name, data]);
          scheduleFrame();
        },
        () => {
          showStatus('live', 'live');
          wait = 500;
          if (cursor.lastEventId === '') void resync().catch(failed);
        },
        cursor,
      );
      showStatus('reconnecting', 'the event stream ended; reconnecting');
    } catch (error) {
      controller.abort();
      if (error instanceof NeedsTokenError) {
        token = await askForToken(error.message);
        continue;
      }
      showStatus(
        'reconnecting',
        `disconnected (${/** @type {Error} */ (error).message}); retrying`,
      );
    }
    // Resuming keeps the fleet and the queue: the server sends what happened meanwhile.
    if (cursor.lastEventId === '') {
      ready = false;
      queue = [];
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10_000);
  }
}

/** @param {unknown} error */
function failed(error) {
  if (error instanceof NeedsTokenError) showStatus('token', error.message);
  else showStatus('error', /** @type {Error} */ (error).message);
}

/** @param {string} why */
async function askForToken(why) {
  showStatus('token', why);
  const given = await showTokenForm($('token-form'), why);
  saveToken(given);
  return given.trim();
}

/** @param {string} id */
async function showNode(id) {
  const panel = $('details');
  try {
    const view = await getJson(`v1/nodes/${encodeURIComponent(id)}`, token);
    if (grid.selected !== id) return;
    renderDetails(panel, view);
  } catch (error) {
    panel.replaceChildren(`Could not read ${id}: ${/** @type {Error} */ (error).message}`);
  }
  panel.hidden = false;
}

/** @param {string | undefined} id */
function select(id) {
  grid.selected = id;
  grid.drawAll(fleet);
  if (id === undefined) $('details').hidden = true;
  else void showNode(id);
}

const canvas = grid.canvas;
canvas.addEventListener('click', (event) => {
  select(fleet.order[grid.indexAt(event.clientX, event.clientY)]?.id);
});
canvas.addEventListener('mousemove', (event) => {
  const node = fleet.order[grid.indexAt(event.clientX, event.clientY)];
  canvas.title = node === undefined ? '' : `${node.id}: ${node.state} (${node.reason})`;
});
$('find').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('find-id'));
  const id = input.value.trim();
  if (fleet.nodes.has(id)) select(id);
  else {
    input.setCustomValidity(`no node ${id}`);
    input.reportValidity();
  }
});
$('find-id').addEventListener('input', (event) => {
  /** @type {HTMLInputElement} */ (event.target).setCustomValidity('');
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') select(undefined);
});
new ResizeObserver(() => {
  fleet.dirty.layout = true;
  fleet.dirty.chart = true;
  scheduleFrame();
}).observe($('grid-box'));

void follow();
