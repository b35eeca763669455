import type { DiagramState, DiagramTransition, MachineGraph } from './graph.js';

/**
 * A Graphviz digraph of a machine: compound states as clusters, labelled edges (a transition
 * with no target as a self-loop with its actions), and what each state invokes as a note.
 */
export function toDot(graph: MachineGraph): string {
  const lines = [
    `digraph ${quote(graph.id)} {`,
    '  compound=true;',
    '  node [shape=box, style=rounded];',
  ];
  const writeState = (state: DiagramState, indent: string) => {
    for (const child of state.states) {
      if (child.states.length > 0) {
        lines.push(
          `${indent}subgraph ${quote(`cluster_${child.path}`)} {`,
          `${indent}  label=${quote(child.key)};`,
        );
        writeState(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        const shape = child.type === 'final' ? ', peripheries=2' : '';
        lines.push(`${indent}${quote(child.path)} [label=${quote(child.key)}${shape}];`);
      }
    }
  };
  writeState(graph.root, '  ');
  const leaf = (path: string) => firstLeaf(graph.root, path);
  // The root is no node: its invocations and its transitions (handled in every state) are
  // one note.
  const rootNote = [
    ...(graph.root.invoke.length > 0 ? [`invokes: ${graph.root.invoke.join(', ')}`] : []),
    ...graph.transitions.filter((t) => t.source === '').map((t) => `any state: ${label(t)}`),
  ];
  if (rootNote.length > 0) {
    lines.push(`  "#root" [shape=note, label=${quote(rootNote.join('\n'))}];`);
  }
  for (const state of allStates(graph.root)) {
    if (state.path === '' || state.invoke.length === 0) continue;
    const note = `${state.path}#invoke`;
    lines.push(
      `  ${quote(note)} [shape=note, label=${quote(`invokes: ${state.invoke.join(', ')}`)}];`,
    );
    lines.push(`  ${quote(leaf(state.path))} -> ${quote(note)} [style=dashed, arrowhead=none];`);
  }
  for (const t of graph.transitions) {
    if (t.source === '') continue;
    const targets = t.targets.length > 0 ? t.targets : [t.source];
    for (const target of targets) {
      lines.push(
        `  ${quote(leaf(t.source))} -> ${quote(leaf(target))} [label=${quote(label(t))}];`,
      );
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** `EVENT [guard]`, and `/ actions` for a transition with no target. */
function label(t: DiagramTransition): string {
  const guard = t.guard === undefined ? '' : ` [${t.guard}]`;
  const actions =
    t.targets.length === 0 && t.actions.length > 0 ? ` / ${t.actions.join(', ')}` : '';
  return `${t.event}${guard}${actions}`;
}

function allStates(state: DiagramState): DiagramState[] {
  return [state, ...state.states.flatMap(allStates)];
}

// Graphviz edges join nodes, not clusters: an edge from or to a compound state is drawn from
// its initial leaf.
function firstLeaf(root: DiagramState, path: string): string {
  let state = find(root, path);
  while (state !== undefined && state.states.length > 0) {
    const next = state.states.find((s) => s.key === state?.initial) ?? state.states[0];
    state = next;
  }
  return state?.path ?? path;
}

function find(state: DiagramState, path: string): DiagramState | undefined {
  if (state.path === path) return state;
  for (const child of state.states) {
    const found = find(child, path);
    if (found !== undefined) return found;
  }
  return undefined;
}

function quote(text: string): string {
  return JSON.stringify(text);
}
