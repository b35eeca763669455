import type { DiagramState, MachineGraph } from './graph.js';

/** A Graphviz digraph of a machine: compound states as clusters, labelled edges. */
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
  for (const t of graph.transitions) {
    for (const target of t.targets) {
      const label = `${t.event}${t.guard === undefined ? '' : ` [${t.guard}]`}`;
      lines.push(`  ${quote(leaf(t.source))} -> ${quote(leaf(target))} [label=${quote(label)}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
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
