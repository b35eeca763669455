import { Command } from 'commander';
import { type DiagramFormat, diagram, type MachineName, machines } from '../diagram/index.js';
import { oneOf } from './parsers.js';

/** `wyneos diagram [machine] --format mermaid|dot|json`: a machine drawn from its definition. */
export function diagramCommand(write: (line: string) => void): Command {
  return new Command('diagram')
    .description(
      'Print a machine as a Mermaid or Graphviz diagram, or as JSON, generated from its definition.',
    )
    .argument(
      '[machine]',
      `one of ${Object.keys(machines).join(', ')}`,
      oneOf(Object.keys(machines)),
      'node',
    )
    .option(
      '--format <format>',
      'mermaid, dot or json',
      oneOf(['mermaid', 'dot', 'json']),
      'mermaid',
    )
    .action((name: MachineName, flags: { format: DiagramFormat }) => {
      write(diagram(machines[name], flags.format).trimEnd());
    });
}
