import type { DiagramState, DiagramTransition, MachineGraph } from './graph.js';

/**
 * A Mermaid `stateDiagram-v2` of a machine: nested states, initial states, final states,
 * transitions labelled with their event, `[guard]` and delays (`after tickPeriod`), and the
 * actors each state invokes. Actions are left out of the arrows to keep the picture readable
 * (`--format json` has them), except on a transition with no target: a self-loop labelled
 * `EVENT / action, ...`, since its actions are all it does.
 */
export function toMermaid(graph: MachineGraph): string {
  const lines = ['stateDiagram-v2'];
  const ids = new Map<string, string>();
  const idOf = (path: string) => {
    let id = ids.get(path);
    if (id === undefined) {
      id = path.replaceAll('.', '_');
      ids.set(path, id);
    }
    return id;
  };
  const writeState = (state: DiagramState, indent: string) => {
    for (const child of state.states) {
      const id = idOf(child.path);
      if (id !== child.key) lines.push(`${indent}state "${child.key}" as ${id}`);
      if (child.invoke.length > 0) lines.push(`${indent}${id}: invokes ${child.invoke.join(', ')}`);
      if (child.states.length > 0) {
        lines.push(`${indent}state ${id} {`);
        writeState(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
    if (state.initial !== undefined) {
      const prefix = state.path === '' ? '' : `${state.path}.`;
      lines.push(`${indent}[*] --> ${idOf(prefix + state.initial)}`);
    }
    for (const child of state.states) {
      if (child.type === 'final') lines.push(`${indent}${idOf(child.path)} --> [*]`);
    }
    for (const t of transitionsIn(state)) lines.push(`${indent}${arrow(t, idOf)}`);
  };
  const transitionsIn = (state: DiagramState) =>
    graph.transitions.filter((t) => parentOf(t.source) === state.path && t.source !== '');
  writeState(graph.root, '  ');
  // The root is no state to draw: what it invokes, and its transitions (events handled in any
  // state), go in a note beside the initial state.
  const rootEvents = graph.transitions.filter((t) => t.source === '').map(eventLabel);
  const note = [
    ...(graph.root.invoke.length > 0 ? [`invokes: ${graph.root.invoke.join(', ')}`] : []),
    ...(rootEvents.length > 0 ? ['in every state:', ...rootEvents.map((e) => `  ${e}`)] : []),
  ];
  if (note.length > 0 && graph.root.initial !== undefined) {
    lines.push(`  note right of ${idOf(graph.root.initial)}`);
    for (const line of note) lines.push(`    ${line}`);
    lines.push('  end note');
  }
  return `${lines.join('\n')}\n`;
}

function arrow(t: DiagramTransition, idOf: (path: string) => string): string {
  const targets = t.targets.length > 0 ? t.targets : [t.source];
  const label = eventLabel(t);
  return targets.map((target) => `${idOf(t.source)} --> ${idOf(target)}: ${label}`).join('\n');
}

/** `EVENT [guard]`, and `/ actions` for a transition with no target. */
function eventLabel(t: DiagramTransition): string {
  const guard = t.guard === undefined ? '' : ` [${t.guard}]`;
  const actions =
    t.targets.length === 0 && t.actions.length > 0 ? ` / ${t.actions.join(', ')}` : '';
  return `${t.event}${guard}${actions}`;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('.');
  return i < 0 ? '' : path.slice(0, i);
}
