// The header: whether the page is live, the fleet in one line, and the token form.

import { stateNames } from './states.js';

/**
 * @param {'live' | 'reconnecting' | 'token' | 'error'} kind
 * @param {string} text
 */
export function showStatus(kind, text) {
  const status = /** @type {HTMLElement} */ (document.getElementById('status'));
  status.className = `status-${kind}`;
  status.textContent = text;
}

/**
 * One line: how many nodes, the policy, fleet compliance, and why the fleet is degraded.
 * @param {HTMLElement} line
 * @param {import('./fleet.js').Fleet} fleet
 */
export function updateStatusLine(line, fleet) {
  const parts = [`${fleet.order.length.toLocaleString('en')} nodes`];
  const counts = stateNames
    .filter((state) => fleet.counts[state] > 0)
    .map((state) => `${fleet.counts[state].toLocaleString('en')} ${state}`);
  if (counts.length > 0) parts.push(counts.join(', '));
  if (fleet.report !== null) {
    parts.push(`policy ${fleet.report.policyVersion}`);
    parts.push(`compliance ${(fleet.report.fleetCompliance * 100).toFixed(1)}%`);
  }
  const degraded = fleet.lastTick?.degraded ?? [];
  if (degraded.length > 0) parts.push(`degraded: ${degraded.join(', ')}`);
  line.textContent = parts.join(' · ');
}

/**
 * Shows the token form and resolves with what the operator enters.
 * @param {HTMLElement} form
 * @param {string} why
 * @returns {Promise<string>}
 */
export function showTokenForm(form, why) {
  const reason = form.querySelector('.why');
  if (reason !== null) reason.textContent = `${why}.`;
  form.hidden = false;
  const input = /** @type {HTMLInputElement} */ (form.querySelector('input'));
  input.value = '';
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        form.hidden = true;
        resolve(input.value);
      },
      { once: true },
    );
  });
}
