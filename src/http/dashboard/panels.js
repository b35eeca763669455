// The panels around the grid: legend, latest actions, compliance per rule, one node's details.
// Everything from the server goes in as text (textContent), never as HTML: reasons and
// messages may carry anything a rule or an operator wrote.

import { drawMark, stateNames, stateStyles } from './states.js';

/**
 * Builds an element with text or children.
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {Array<Node | string | number | undefined>} children
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) {
    if (child === undefined) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

/** @param {number} at ms since the epoch */
export function clock(at) {
  return new Date(at).toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * The legend: each state's mark, name, shape, count and meaning. Built once; counts updated.
 * @param {HTMLElement} list
 */
export function buildLegend(list) {
  for (const state of stateNames) {
    const style = stateStyles[state];
    const swatch = el('canvas', { width: '18', height: '18', 'aria-hidden': 'true' });
    drawMark(/** @type {any} */ (swatch).getContext('2d'), state, 1, 1, 16);
    list.append(
      el(
        'li',
        { title: style.description },
        swatch,
        el('span', {}, `${state} (${style.shape})`),
        el('strong', { 'data-count': state }, '0'),
      ),
    );
  }
}

/**
 * @param {HTMLElement} list
 * @param {Record<string, number>} counts
 */
export function updateLegend(list, counts) {
  for (const state of stateNames) {
    const cell = list.querySelector(`[data-count="${state}"]`);
    if (cell !== null) cell.textContent = (counts[state] ?? 0).toLocaleString('en');
  }
}

/**
 * The latest actions, newest first: one row per action, at its latest step.
 * @param {HTMLElement} tbody
 * @param {Map<string, any>} actions
 */
export function renderActions(tbody, actions) {
  const rows = [...actions.values()].reverse().map((a) => {
    const why = [a.reason, a.heldBy && `held by ${a.heldBy}`, a.error && `error: ${a.error}`];
    return el(
      'tr',
      {},
      el('td', {}, clock(a.at)),
      el('td', {}, el('code', {}, a.nodeId)),
      el('td', {}, a.type),
      el('td', {}, el('span', { class: `status status-${a.status}` }, a.status)),
      el('td', {}, a.origin),
      el('td', {}, why.filter(Boolean).join('; ')),
    );
  });
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: '6' }, 'No actions yet.')));
  tbody.replaceChildren(...rows);
}

/**
 * Compliance per rule from the latest report: warnings count as compliant, skips do not count.
 * @param {HTMLElement} tbody
 * @param {any} report
 */
export function renderRules(tbody, report) {
  const rules = report?.rules ?? [];
  const rows = rules.map((/** @type {any} */ r) => {
    const applicable = r.pass + r.warn + r.fail + r.error;
    const share = applicable === 0 ? 1 : (r.pass + r.warn) / applicable;
    const percent = `${(share * 100).toFixed(1)}%`;
    return el(
      'tr',
      {},
      el('td', { title: r.description }, el('code', {}, r.ruleId)),
      el('td', {}, r.severity),
      el('td', {}, r.enforcement),
      el('td', { class: 'num' }, r.pass),
      el('td', { class: 'num' }, r.warn),
      el('td', { class: 'num' }, r.fail),
      el('td', { class: 'num' }, r.error),
      el('td', { class: 'num' }, r.skip),
      el('td', {}, el('meter', { min: '0', max: '1', value: String(share) }), ` ${percent}`),
    );
  });
  if (rows.length === 0)
    rows.push(el('tr', {}, el('td', { colspan: '9' }, 'No rules in the policy.')));
  tbody.replaceChildren(...rows);
}

/**
 * One node's view from GET /v1/nodes/:id: its state, its rule results, its recent transitions.
 * @param {HTMLElement} panel
 * @param {any} view
 */
export function renderDetails(panel, view) {
  const { node, rules, transitions, pendingActions } = view;
  const labels = Object.entries(node.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const facts = [
    ['state', `${node.state} since ${clock(node.since)}`],
    ['reason', node.reason],
    ['load', node.load === undefined ? undefined : node.load.toFixed(2)],
    ['version', node.version],
    ['labels', labels.join(', ')],
    ['last heartbeat', node.lastHeartbeatAt === undefined ? 'none' : clock(node.lastHeartbeatAt)],
    ['isolations', node.isolations],
  ].filter(([, value]) => value !== undefined && value !== '');
  panel.replaceChildren(
    el('h2', {}, 'Node ', el('code', {}, node.id)),
    el('dl', {}, ...facts.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)])),
    el('h3', {}, 'Rule results'),
    table(
      ['rule', 'outcome', 'message'],
      rules.map((/** @type {any} */ r) => [
        r.ruleId,
        el('span', { class: `outcome outcome-${r.outcome}` }, r.outcome),
        [r.message, r.observed !== undefined && `observed ${JSON.stringify(r.observed)}`]
          .filter(Boolean)
          .join('; '),
      ]),
      'No rules apply.',
    ),
    el('h3', {}, 'Recent transitions'),
    table(
      ['time', 'from', 'to', 'reason'],
      [...transitions]
        .reverse()
        .map((/** @type {any} */ t) => [clock(t.at), t.from, t.to, t.reason]),
      'No transitions since the server started.',
    ),
    el('h3', {}, 'Actions waiting for its next heartbeat'),
    table(
      ['type', 'reason'],
      pendingActions.map((/** @type {any} */ a) => [a.type, a.reason]),
      'None.',
    ),
  );
}

/**
 * @param {string[]} head
 * @param {Array<Array<Node | string | number | undefined>>} rows
 * @param {string} empty
 */
function table(head, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'empty' }, empty);
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))),
  );
}
