import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../processes.js';
import { readmeBlock, runScript } from '../readme-blocks.js';
import { natsServerPath } from './server.js';

// The README's NATS set-up, run as written by bash: the accounts from `wyneos nats-config`, the
// shipped server template, two supervisors and two agents, each node with its own credentials.
// Only the ports change (to free ones). Then what the README says: one supervisor lists the
// whole fleet (both nodes, whichever holds them), and gpu-17's URL used as gpu-18 is refused by the server, which the agent
// says. It needs the built package (`npx wyneos` runs dist/), which `npm ci` builds.

describe.skipIf(natsServerPath === undefined)("the README's NATS set-up", () => {
  let stop = () => {};
  afterAll(() => stop());

  it('runs as written: accounts, two supervisors, two nodes, and an impersonation refused', async () => {
    const script = readmeBlock('nats-config');
    for (const port of ['4222', '7071', '7072']) expect(script).toContain(port);
    // Appended in the same shell (it knows "$d" and `url`): wait until one supervisor lists
    // both nodes of the fleet, then try the README's impersonation.
    const check = `
for i in $(seq 1 300); do
  listed="$(curl -s 'http://127.0.0.1:7071/v1/nodes?fleet=true' || true)"
  case "$listed" in *'"id":"gpu-17"'*) case "$listed" in *'"id":"gpu-18"'*) break;; esac;; esac
  sleep 0.2
done
printf '\\nLISTED %s\\n' "$listed"
npx wyneos agent --id gpu-18 --nats "$(url --node gpu-17)" > "$d/impostor.log" &
for i in $(seq 1 300); do grep -qs 'refused this node' "$d/impostor.log" && break; sleep 0.2; done
printf '\\nREFUSED %s\\n' "$(grep -m1 'refused this node' "$d/impostor.log")"`;
    const ports: Record<string, number> = {};
    for (const port of ['4222', '7071', '7072']) ports[port] = await freePort();
    const run = runScript(`${script}\n${check}`.replace(/4222|7071|7072/g, (p) => `${ports[p]}`));
    stop = run.stop;
    const { code, out, err } = await run.done;
    // Everything wyneos logs is JSON (pino) and nats-server's lines start with its pid; the
    // server's only errors are the impersonation's.
    const complaints = err
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('{') && !/^\[\d+\] /.test(l));
    const serverErrors = err.split('\n').filter((l) => /^\[\d+\] .* \[ERR\] /.test(l));
    expect({ code, complaints }).toEqual({ code: 0, complaints: [] });
    expect(serverErrors.length).toBeGreaterThan(0);
    for (const line of serverErrors) expect(line).toMatch(/Violation - User "gpu-17"/);

    const listed = out.split('\n').find((l) => l.startsWith('LISTED ')) ?? '';
    const ids = [...listed.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(ids).toEqual(['gpu-17', 'gpu-18']);
    const refused = out.split('\n').find((l) => l.startsWith('REFUSED ')) ?? 'REFUSED {}';
    expect(JSON.parse(refused.slice('REFUSED '.length))).toMatchObject({
      level: 50,
      nodeId: 'gpu-18',
    });
  }, 180_000);
});
