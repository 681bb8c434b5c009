// Decides cases with a policy component transpiled by jco, under Node: the same
// module the host runs, in another component host. Reads a JSON array of
// {token, request} (the contract's records, JSON-shaped, u64 as numbers) on
// stdin; prints one JSON line per case with the one-shot and the compiled
// (grant-set id) decision, the latter as the ruling and as its explanation. Usage: node decide.mjs <transpiled policy.js>

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { evaluator } = await import(pathToFileURL(process.argv[2]).href);
const actions = evaluator.catalog().map((entry) => entry.action);

const big = (n) => (n === null || n === undefined ? undefined : BigInt(n));

function shown(decision) {
  return decision.tag === 'allow'
    ? { decision: 'allow', grant: decision.val.grant }
    : { decision: 'deny', code: decision.val.code };
}

function compiled(token, request) {
  const action = actions.indexOf(request.action);
  if (action < 0) return { decision: 'deny', code: 'unknown-action' };
  let grants, owner;
  try {
    grants = evaluator.compile(token.grants);
  } catch (e) {
    return { decision: 'deny', code: e.payload?.code ?? 'policy-fault' };
  }
  try {
    owner = evaluator.compile({ tag: 'resources', val: token.ownerRights });
  } catch (e) {
    evaluator.release(grants);
    return { decision: 'deny', code: e.payload?.code ?? 'policy-fault' };
  }
  const status = { expiresAt: token.expiresAt, revoked: token.revoked };
  const ruling = evaluator.decideCompiled(grants, owner, status, action, request.resource, request.now);
  const explained = shown(evaluator.explain(grants, owner, status, action, request.resource, request.now));
  evaluator.release(grants);
  evaluator.release(owner);
  const ruled = ruling.tag === 'allow' ? { decision: 'allow', grant: ruling.val } : { decision: 'deny', code: ruling.val };
  if (JSON.stringify(ruled) !== JSON.stringify(explained)) {
    return { decision: 'mismatch', ruling: ruled, explained };
  }
  return ruled;
}

const cases = JSON.parse(readFileSync(0, 'utf8'));
const info = evaluator.info();
console.log(JSON.stringify({ module: `${info.name} ${info.version}`, actions: actions.length }));
for (const c of cases) {
  const token = { ...c.token, expiresAt: big(c.token.expiresAt) };
  const request = { ...c.request, now: BigInt(c.request.now) };
  console.log(JSON.stringify({ oneshot: shown(evaluator.decide(token, request)), compiled: compiled(token, request) }));
}
