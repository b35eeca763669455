import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { marked, type Tokens } from 'marked';
import { afterAll, describe, expect, it } from 'vitest';

// The README's HTTP quick start, run as written by bash against real processes: a supervisor,
// two agents and curl. Only the port is changed (to a free one), so the test can run beside
// others. It needs the built package (`npx wyneos` runs dist/), which `npm ci` builds.

const root = fileURLToPath(new URL('..', import.meta.url));

function quickStart(): string {
  const tokens = marked.lexer(readFileSync(`${root}README.md`, 'utf8'));
  const block = tokens.find(
    (t): t is Tokens.Code =>
      t.type === 'code' && t.lang === 'sh' && t.text.includes('wyneos serve'),
  );
  if (block === undefined) throw new Error('no quick start with wyneos serve in the README');
  return block.text;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the README's quick start", () => {
  let group: number | undefined;
  afterAll(() => {
    // The block leaves the supervisor and the agents running in the background, as a user
    // would in a terminal: stop the whole process group.
    if (group !== undefined) process.kill(-group, 'SIGTERM');
  });

  it('runs as written: a supervisor, two agents, and curl listing the fleet', async () => {
    const script = quickStart();
    expect(script).toContain('7070');
    const port = await freePort();
    // Appended after the block, in the same shell (it knows "$d"): wait until both agents are
    // listed, since they may still be starting when the block's own curl runs.
    const check = `
operator=$(npx wyneos token --operator --secret-file "$d/secret")
for i in $(seq 1 300); do
  listed=$(curl -s http://127.0.0.1:7070/v1/nodes -H "authorization: Bearer $operator")
  case "$listed" in *'"id":"node-1"'*'"id":"node-2"'*) printf '\\nFLEET %s\\n' "$listed"; exit 0;; esac
  sleep 0.2
done
exit 9`;
    const shell = spawn(
      'bash',
      ['-euo', 'pipefail', '-c', `${script}\n${check}`.replaceAll('7070', String(port))],
      { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    group = shell.pid;
    let out = '';
    let err = '';
    shell.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    shell.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    const code = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
    // Everything the processes log is JSON (pino); any other line on stderr is an error.
    const complaints = err.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    expect({ code, complaints }).toEqual({ code: 0, complaints: [] });
    // The block's curl printed the fleet (amid the processes' own log lines, which share the
    // terminal); the check saw both nodes.
    expect(out).toContain('{"nodes":[');
    const line = out.split('\n').find((l) => l.startsWith('FLEET ')) ?? 'FLEET {}';
    const fleet = JSON.parse(line.slice('FLEET '.length)) as { nodes?: Array<{ id: string }> };
    expect(fleet.nodes?.map((n) => n.id).sort()).toEqual(['node-1', 'node-2']);
    // The quick start's policy admits both, and the server logged no refusal.
    expect(err).not.toContain('WYNEOS_ERR');
  }, 180_000);
});
