// The page's model of the fleet: a snapshot read once, then kept current by the events of
// `/v1/events`. Applying an event only records what changed (`dirty`); the views redraw
// once per animation frame from it, so a burst of thousands of events costs one redraw.

import { stateNames } from './states.js';

const maxActions = 50;
const maxHistory = 600;

/**
 * @typedef {{ id: string, state: import('./states.js').NodeState, since: number,
 *   reason: string, index: number }} GridNode
 */

export class Fleet {
  constructor() {
    /** @type {Map<string, GridNode>} */
    this.nodes = new Map();
    /** @type {GridNode[]} in registration order: a node's place in the grid */
    this.order = [];
    /** @type {Record<string, number>} */
    this.counts = zeroCounts();
    /** @type {Array<{ tick: number, at: number, states: Record<string, number> }>} */
    this.history = [];
    /** Latest step of each recent action, by action id, oldest first. @type {Map<string, any>} */
    this.actions = new Map();
    /** @type {any} the latest report summary */
    this.report = null;
    /** @type {any} the latest tick summary */
    this.lastTick = null;
    /** @type {any} the latest change of the fleet's health */
    this.health = null;
    /** Set when an event shows the snapshot is out of date (a deregistration, a gap). */
    this.stale = false;
    this.dirty = newDirty();
  }

  /**
   * Replaces everything with a snapshot read from the API.
   * @param {any[]} nodes from GET /v1/nodes
   * @param {any} report from GET /v1/report (null before the first tick)
   * @param {any[]} actions from GET /v1/actions
   */
  reset(nodes, report, actions) {
    this.nodes.clear();
    this.order = [];
    this.counts = zeroCounts();
    for (const node of nodes) this.add(node.id, node.state, node.since, node.reason ?? '');
    if (report !== null) this.report = report;
    this.actions.clear();
    for (const action of actions) this.action(action);
    this.stale = false;
    const all = {
      layout: true,
      counts: true,
      chart: true,
      actions: true,
      rules: true,
      status: true,
    };
    this.dirty = { ...newDirty(), ...all };
  }

  /**
   * Applies one event of the stream.
   * @param {string} name
   * @param {any} data
   */
  apply(name, data) {
    switch (name) {
      case 'transition':
        return this.transition(data);
      case 'admission':
        if (data.admitted && !this.nodes.has(data.nodeId)) {
          this.add(data.nodeId, data.isolated ? 'isolated' : 'online', data.at, 'registered');
          this.dirty.layout = true;
        }
        return;
      case 'action':
        this.action(data);
        this.dirty.actions = true;
        return;
      case 'report':
        this.report = data;
        this.dirty.rules = true;
        return;
      case 'tick':
        this.lastTick = data;
        this.history.push({ tick: data.tick, at: data.at, states: data.states });
        if (this.history.length > maxHistory)
          this.history.splice(0, this.history.length - maxHistory);
        // No event announces a deregistration: a count that disagrees means read again.
        if (data.nodeCount !== this.nodes.size) this.stale = true;
        this.dirty.chart = true;
        this.dirty.status = true;
        return;
      case 'history':
        this.history = data.slice(-maxHistory);
        this.dirty.chart = true;
        return;
      case 'fleet':
        this.health = data;
        this.dirty.status = true;
        return;
      default:
        // An event kind a newer server sends: ignored, so an old page keeps working.
        return;
    }
  }

  /** Hands the views what changed since the last call, and starts afresh. */
  takeDirty() {
    const dirty = this.dirty;
    this.dirty = newDirty();
    return dirty;
  }

  /** @param {any} t */
  transition(t) {
    const node = this.nodes.get(t.nodeId);
    if (node === undefined) {
      this.stale = true;
      return;
    }
    // The snapshot may already hold this transition, or a later one: never go back in time.
    if (t.at < node.since) return;
    this.counts[node.state] -= 1;
    this.counts[t.to] = (this.counts[t.to] ?? 0) + 1;
    node.state = t.to;
    node.since = t.at;
    node.reason = t.reason;
    this.dirty.cells.add(node.index);
    this.dirty.nodes.add(node.id);
    this.dirty.counts = true;
  }

  /**
   * @param {string} id
   * @param {any} state
   * @param {number} since
   * @param {string} reason
   */
  add(id, state, since, reason) {
    const node = { id, state, since, reason, index: this.order.length };
    this.nodes.set(id, node);
    this.order.push(node);
    this.counts[state] = (this.counts[state] ?? 0) + 1;
    this.dirty.counts = true;
  }

  /** @param {any} record */
  action(record) {
    // Steps queued while a snapshot was read may be older than the step it holds.
    const known = this.actions.get(record.id);
    if (known !== undefined && stepRank[record.status] < stepRank[known.status]) return;
    // Map order is insertion order: deleting first moves an action's new step to the end.
    this.actions.delete(record.id);
    this.actions.set(record.id, record);
    if (this.actions.size > maxActions) {
      const oldest = this.actions.keys().next().value;
      if (oldest !== undefined) this.actions.delete(oldest);
    }
  }
}

/** @type {Record<string, number>} the order of an action's steps */
const stepRank = { proposed: 0, held: 1, applied: 2, failed: 2 };

function zeroCounts() {
  return Object.fromEntries(stateNames.map((name) => [name, 0]));
}

function newDirty() {
  return {
    layout: false,
    /** @type {Set<number>} grid cells to redraw */
    cells: new Set(),
    /** @type {Set<string>} nodes whose state changed */
    nodes: new Set(),
    counts: false,
    chart: false,
    actions: false,
    rules: false,
    status: false,
  };
}
