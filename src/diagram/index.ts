import type { AnyStateMachine } from 'xstate';
import { governanceMachine } from '../../machines/governance.machine.js';
import { healingMachine } from '../../machines/healing.machine.js';
import { nodeMachine } from '../../machines/node.machine.js';
import { reviewMachine } from '../../machines/review.machine.js';
import { snapshotMachine } from '../../machines/snapshot.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { toDot } from './dot.js';
import { type DiagramState, machineGraph } from './graph.js';
import { toMermaid } from './mermaid.js';

export { toDot } from './dot.js';
export {
  type DiagramState,
  type DiagramTransition,
  type MachineGraph,
  machineGraph,
} from './graph.js';
export { toMermaid } from './mermaid.js';

/** wyneos's machines by name, in the order the docs show them: a tick's steps in their order. */
export const machines: Readonly<
  Record<'node' | 'supervisor' | 'snapshot' | 'healing' | 'governance' | 'review', AnyStateMachine>
> = {
  node: nodeMachine,
  supervisor: supervisorMachine,
  snapshot: snapshotMachine,
  healing: healingMachine,
  governance: governanceMachine,
  review: reviewMachine,
};

export type MachineName = keyof typeof machines;
export type DiagramFormat = 'mermaid' | 'dot' | 'json';

/** A machine drawn in a format. */
export function diagram(machine: AnyStateMachine, format: DiagramFormat): string {
  const graph = machineGraph(machine);
  if (format === 'mermaid') return toMermaid(graph);
  if (format === 'dot') return toDot(graph);
  return `${JSON.stringify(graph, null, 2)}\n`;
}

/** The text of `docs/machines.md`: every machine as a Mermaid diagram, generated from the code. */
export function machinesDocument(): string {
  const sections = Object.entries(machines).map(([name, machine]) => {
    const source = `[\`machines/${name}.machine.ts\`](../machines/${name}.machine.ts)`;
    return `## ${name}\n\n${source}${invokes(machine)}\n\n\`\`\`mermaid\n${diagram(machine, 'mermaid')}\`\`\`\n`;
  });
  return `# The machines\n\nGenerated from the machine definitions by \`npm run docs\` (\`wyneos diagram\`); a test fails when this file is out of date.\n\n${sections.join('\n')}`;
}

/** `; invokes [snapshot](#snapshot), ...`: links to the diagrams of the machines it invokes. */
function invokes(machine: AnyStateMachine): string {
  const names: string[] = [];
  const visit = (state: DiagramState) => {
    names.push(...state.invoke);
    for (const child of state.states) visit(child);
  };
  visit(machineGraph(machine).root);
  if (names.length === 0) return '';
  return `; invokes ${[...new Set(names)].map((n) => (n in machines ? `[${n}](#${n})` : n)).join(', ')}`;
}
