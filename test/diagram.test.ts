import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createProgram } from '../src/cli/program.js';
import { diagram, machineGraph, machines, machinesDocument } from '../src/diagram/index.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('diagram', () => {
  it('draws the node machine with every transition and nothing else', () => {
    const arrows = diagram(machines.node, 'mermaid')
      .split('\n')
      .filter((l) => l.includes('-->'));
    expect(arrows).toEqual([
      '  [*] --> online',
      '  online --> overloaded: OVERLOADED',
      '  online --> offline: WENT_OFFLINE',
      '  online --> isolated: ISOLATE',
      '  overloaded --> online: RECOVERED',
      '  overloaded --> offline: WENT_OFFLINE',
      '  overloaded --> isolated: ISOLATE',
      '  offline --> online: CAME_BACK',
      '  offline --> isolated: ISOLATE',
      '  isolated --> online: REINSTATE',
    ]);
  });

  it('draws nested states, delays, final states and events handled everywhere', () => {
    const text = diagram(machines.supervisor, 'mermaid');
    expect(text).toContain('  state running {');
    expect(text).toContain('    running_waiting --> running_snapshotting: after tickPeriod');
    expect(text).toContain('    running_reviewing --> running_applying: REVIEW.DONE');
    expect(text).toContain('  stopped --> [*]');
    expect(text).toMatch(
      /note right of idle\n {4}invokes: snapshot, healing, governance, review\n {4}in every state:\n {6}NODES.REGISTER \/ spawnNodes\n(.*\n)* {6}NODE.TRANSITIONED \/ emitTransition\n {2}end note/,
    );
  });

  it('draws a transition with no target as a self-loop with its actions, and what states invoke', () => {
    expect(diagram(machines.healing, 'mermaid')).toContain(
      '  ready --> ready: EVALUATE / planSnapshot, sendPlan',
    );
    expect(diagram(machines.governance, 'dot')).toContain(
      '"ready" -> "ready" [label="EVALUATE / evaluateSnapshot, sendDecision"];',
    );
    const machine = setup({
      actors: { child: setup({}).createMachine({}) },
      actions: { note: () => {} },
    }).createMachine({
      id: 'sample',
      initial: 'a',
      states: {
        a: {
          initial: 'x',
          invoke: { src: 'child' },
          states: { x: { on: { PING: { actions: 'note' } } } },
        },
      },
    });
    const text = diagram(machine, 'mermaid');
    expect(text).toContain('  a: invokes child\n');
    expect(text).toContain('    a_x --> a_x: PING / note\n');
    expect(diagram(machine, 'dot')).toContain('"a#invoke" [shape=note, label="invokes: child"];');
    expect(diagram(machines.supervisor, 'dot')).toContain(
      '"#root" [shape=note, label="invokes: snapshot, healing, governance, review\\n',
    );
    expect(machinesDocument()).toContain(
      '; invokes [snapshot](#snapshot), [healing](#healing), [governance](#governance), [review](#review)',
    );
  });

  it('shows guards and numeric delays, and gives the actions in JSON', () => {
    const machine = setup({
      guards: { isReady: () => true },
      actions: { log: () => {} },
    }).createMachine({
      id: 'sample',
      initial: 'a',
      states: {
        a: { on: { GO: { target: 'b', guard: 'isReady', actions: 'log' } }, after: { 500: 'b' } },
        b: { type: 'final' },
      },
    });
    const text = diagram(machine, 'mermaid');
    expect(text).toContain('a --> b: GO [isReady]');
    expect(text).toContain('a --> b: after 500ms');
    expect(machineGraph(machine).transitions[0]).toEqual({
      source: 'a',
      event: 'GO',
      targets: ['b'],
      guard: 'isReady',
      actions: ['log'],
    });
    expect(diagram(machine, 'dot')).toContain('"a" -> "b" [label="GO [isReady]"];');
  });

  it('keeps docs/machines.md and the README picture in step with the code', () => {
    // Out of date? Run `npm run docs` and copy the node diagram into the README.
    expect(read('docs/machines.md')).toBe(machinesDocument());
    const readme = read('README.md');
    const node = diagram(machines.node, 'mermaid');
    expect(readme).toContain(`\`\`\`mermaid\n${node}\`\`\``);
  });

  it('is a command: wyneos diagram [machine] --format', async () => {
    const lines: string[] = [];
    await createProgram((l) => lines.push(l), 'none').parseAsync([
      'node',
      'wyneos',
      'diagram',
      'supervisor',
      '--format',
      'dot',
    ]);
    expect(lines.join('\n')).toMatch(/^digraph "supervisor" \{\n {2}compound=true;/);
    expect(lines.join('\n')).toContain('subgraph "cluster_running"');
  });
});
