import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './processes.js';
import { readmeBlock, runScript } from './readme-blocks.js';

// The README's HTTP quick start, run as written by bash against real processes: a supervisor,
// two agents and curl. Only the port is changed (to a free one), so the test can run beside
// others. It needs the built package (`npx wyneos` runs dist/), which `npm ci` builds.

describe("the README's quick start", () => {
  // The block leaves the supervisor and the agents running in the background.
  let stop = () => {};
  afterAll(() => stop());

  it('runs as written: a supervisor, two agents, and curl listing the fleet', async () => {
    const script = readmeBlock('wyneos serve --port');
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
    const run = runScript(`${script}\n${check}`.replaceAll('7070', String(port)));
    stop = run.stop;
    const { code, out, err } = await run.done;
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
