import type { AnyStateMachine } from 'xstate';

/** One state of a machine, as a diagram draws it. */
export interface DiagramState {
  /** The path from the root, dot-separated (`running.waiting`); '' for the root. */
  readonly path: string;
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The key of the initial child state, for a compound state. */
  readonly initial?: string;
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Actors invoked while in the state, by src. */
  readonly invoke: readonly string[];
  readonly states: readonly DiagramState[];
}

/** One transition: on an event or after a delay, maybe guarded, maybe to another state. */
export interface DiagramTransition {
  readonly source: string;
  /** The event, or `after <delay>` for a delayed transition. */
  readonly event: string;
  /** Target state paths; empty for a transition that stays (actions only). */
  readonly targets: readonly string[];
  readonly guard?: string;
  readonly actions: readonly string[];
}

export interface MachineGraph {
  readonly id: string;
  readonly root: DiagramState;
  readonly transitions: readonly DiagramTransition[];
}

interface StateNodeLike {
  readonly key: string;
  readonly path: readonly string[];
  readonly type: DiagramState['type'];
  readonly states: Readonly<Record<string, StateNodeLike>>;
  readonly initial?: { readonly target: readonly StateNodeLike[] };
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: ReadonlyArray<{ readonly src: unknown }>;
  readonly transitions: ReadonlyMap<string, ReadonlyArray<TransitionLike>>;
  readonly after: ReadonlyArray<{ readonly eventType: string; readonly delay: unknown }>;
}

interface TransitionLike {
  readonly target?: readonly StateNodeLike[];
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
}

/**
 * Walks a machine's definition (`machine.root`) into plain data: the states with their entry
 * and exit actions and invoked actors, and every transition with its guard and actions, delays
 * included. What the diagrams are drawn from, so a picture never drifts from the code.
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const transitions: DiagramTransition[] = [];
  const root = walk(machine.root as unknown as StateNodeLike, transitions);
  return { id: machine.id, root, transitions };
}

function walk(node: StateNodeLike, transitions: DiagramTransition[]): DiagramState {
  const path = node.path.join('.');
  const delays = new Map(node.after.map((a) => [a.eventType, `after ${nameOf(a.delay)}`]));
  for (const [eventType, list] of node.transitions) {
    for (const t of list) {
      transitions.push({
        source: path,
        event: delays.get(eventType) ?? eventType,
        targets: (t.target ?? []).map((target) => target.path.join('.')),
        ...(t.guard === undefined ? {} : { guard: nameOf(t.guard) }),
        actions: t.actions.map(nameOf),
      });
    }
  }
  const initial = node.initial?.target[0]?.key;
  return {
    path,
    key: node.key,
    type: node.type,
    ...(initial === undefined ? {} : { initial }),
    entry: node.entry.map(nameOf),
    exit: node.exit.map(nameOf),
    invoke: node.invoke.map((i) => nameOf(i.src)),
    states: Object.values(node.states).map((child) => walk(child, transitions)),
  };
}

// Implementations are referenced by name in wyneos's machines (a rule the Stately import test
// enforces), so a name is always there to show.
function nameOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return `${value}ms`;
  if (typeof value === 'object' && value !== null && 'type' in value) return String(value.type);
  return 'inline';
}
