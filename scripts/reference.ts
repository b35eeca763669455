import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import ts from 'typescript';

// The configuration and command-line references, generated from where each fact is written
// once: an option's meaning and default in its JSDoc (`@defaultValue`), a flag in commander's
// definition. `npm run docs` writes them; a test fails when the files on disk are stale.

/** The option interfaces of `createSupervisor`, in the order the reference shows them. */
export const optionInterfaces = [
  { name: 'SupervisorOptions', file: 'src/supervisor/types.ts', path: '' },
  { name: 'OverloadOptions', file: 'src/healing/types.ts', path: 'overload' },
  { name: 'SafetyOptions', file: 'src/healing/safety.ts', path: 'safety' },
  { name: 'EscalationOptions', file: 'src/healing/escalation.ts', path: 'escalation' },
  { name: 'FlappingOptions', file: 'src/healing/escalation.ts', path: 'flapping' },
  { name: 'PhiAccrualOptions', file: 'src/healing/detectors/types.ts', path: 'detector' },
  { name: 'HookPolicy', file: 'src/healing/hooks.ts', path: 'hooks' },
  { name: 'PredictiveOptions', file: 'src/healing/trend.ts', path: 'predictive' },
  { name: 'HeartbeatRate', file: 'src/supervisor/heartbeat-rate.ts', path: 'heartbeatRate' },
  { name: 'LicensingOptions', file: 'src/licensing/types.ts', path: 'licensing' },
  { name: 'TrustOptions', file: 'src/trust/types.ts', path: 'trust' },
  { name: 'TrustWeights', file: 'src/trust/types.ts', path: 'trust.weights' },
] as const;

export interface DocumentedField {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  /** The `@defaultValue` text, as written. */
  readonly defaultValue: string | undefined;
}

const root = fileURLToPath(new URL('../', import.meta.url));

/** The fields of one interface with their JSDoc, read from the source by the TypeScript parser. */
export function documentedFields(name: string, file: string): DocumentedField[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(`${root}${file}`, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (found === undefined) throw new Error(`no interface ${name} in ${file}`);
  return found.members.filter(ts.isPropertySignature).map((member) => {
    const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const doc = docs.at(-1);
    const tag = doc?.tags?.find((t) => t.tagName.text === 'defaultValue');
    return {
      name: member.name.getText(source),
      type: (member.type?.getText(source) ?? 'unknown').replace(/\s+/g, ' '),
      description: oneLine(ts.getTextOfJSDocComment(doc?.comment) ?? ''),
      defaultValue:
        tag === undefined ? undefined : oneLine(ts.getTextOfJSDocComment(tag.comment) ?? ''),
    };
  });
}

/** docs/configuration.md. */
export function configurationReference(): string {
  const out = [
    '# Configuration reference',
    '',
    'Every option of `createSupervisor(options)`, generated from the JSDoc of the option types',
    '(`npm run docs`; a test fails when this page is stale). A nested option takes any subset of',
    'its fields; what it leaves out keeps its default. `wyneos serve --config` takes the same',
    "options in its `supervisor` section (durations there also as `3s`); see [the CLI's",
    'reference](cli-reference.md) for the flags.',
  ];
  for (const { name, file, path } of optionInterfaces) {
    out.push('', `## ${path === '' ? '`createSupervisor` options' : `\`${path}\``}`, '');
    out.push(`\`${name}\`, in [\`${file}\`](../${file}).`, '');
    out.push('| option | type | default | |', '| --- | --- | --- | --- |');
    for (const field of documentedFields(name, file)) {
      const option = path === '' ? field.name : `${path}.${field.name}`;
      out.push(
        `| \`${option}\` | \`${cell(field.type)}\` | ${cell(field.defaultValue ?? '')} | ${cell(field.description)} |`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** docs/cli-reference.md, from the program's own definition. */
export function cliReference(program: Command): string {
  const out = [
    '# Command-line reference',
    '',
    'Every `wyneos` command and flag, generated from the commander definitions (`npm run docs`; a',
    'test fails when this page is stale). [The command line](cli.md) explains the commands and',
    'the exit codes.',
  ];
  for (const [path, command] of commandsOf(program)) {
    out.push('', `## \`wyneos ${path}\``, '', command.description(), '');
    out.push('```', `wyneos ${path} ${command.usage()}`.trimEnd(), '```');
    const options = command.options.filter((o) => !o.hidden);
    if (options.length === 0) continue;
    out.push('', '| flag | default | |', '| --- | --- | --- |');
    for (const option of options) {
      out.push(
        `| \`${cell(option.flags)}\` | ${cell(defaultOf(option))} | ${cell(describe(option))} |`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function commandsOf(command: Command, prefix = ''): Array<[string, Command]> {
  return command.commands.flatMap((sub): Array<[string, Command]> => {
    const names = [sub.name(), ...sub.aliases()];
    const path = `${prefix}${names.join('|')}`;
    return [[path, sub], ...commandsOf(sub, `${prefix}${sub.name()} `)];
  });
}

function defaultOf(option: Option): string {
  if (option.defaultValueDescription !== undefined) return `\`${option.defaultValueDescription}\``;
  if (option.defaultValue === undefined || option.defaultValue === false) return '';
  return `\`${JSON.stringify(option.defaultValue)}\``;
}

function describe(option: Option): string {
  const choices =
    option.argChoices === undefined ? '' : ` (one of ${option.argChoices.join(', ')})`;
  return `${option.description}${choices}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
