/**
 * A `goldstone sweep` worker: a child process (forked by the sweep) that takes points over IPC and
 * runs each exactly as `goldstone run FILE --set path=value …` would, into the point's own run
 * directory. It writes nothing else; the sweep alone writes sweep.json.
 */
import { existsSync, rmSync } from 'node:fs';
import { resolveExperiment, runExperiment, RunStore, silentProgress, type BackendChoice } from '@goldstone/core';
import { writeRunReport } from '@goldstone/report';
import { loadExperimentFile } from './config-file';
import { packageVersions, registryFor, startBackend } from './context';
import type { FromWorker, PointDoneMessage, RunPointMessage, ToWorker } from './sweep-protocol';

let current: RunStore | undefined;
let backendChoice: BackendChoice | undefined;
let backend = '';

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runPoint(msg: RunPointMessage): Promise<PointDoneMessage> {
  const base = { type: 'done' as const, id: msg.id };
  let store: RunStore | undefined;
  try {
    const { experiment, dir } = loadExperimentFile(msg.file, { quick: msg.quick, set: { ...msg.set, ...msg.assignments } });
    const registry = await registryFor(experiment, dir, msg.file);
    const resolved = resolveExperiment(experiment, registry, msg.file);
    if (backendChoice !== experiment.backend) {
      backend = await startBackend(experiment.backend);
      backendChoice = experiment.backend;
    }
    // A point runs again from scratch: whatever an earlier attempt left goes.
    if (existsSync(msg.dir)) rmSync(msg.dir, { recursive: true, force: true });
    store = await RunStore.create(msg.dir);
    current = store;
    const outcome = await runExperiment({ resolved, store, backend, packages: packageVersions(registry), progress: silentProgress });
    if (msg.report) await writeRunReport(msg.dir).catch(() => undefined);
    return { ...base, status: outcome.status, ...(outcome.message ? { error: outcome.message } : {}), summary: outcome.final };
  } catch (err) {
    const error = messageOf(err);
    if (store) {
      await store.updateRun({ status: 'failed', error, finishedAt: new Date().toISOString() }).catch(() => undefined);
      if (msg.report) await writeRunReport(msg.dir).catch(() => undefined);
    }
    return { ...base, status: 'failed', error };
  } finally {
    current = undefined;
  }
}

function onSignal(signal: NodeJS.Signals): void {
  const store = current;
  const exit = () => process.exit(130);
  if (!store) return exit();
  store.updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt: new Date().toISOString() }).then(exit, exit);
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// The sweep is gone (killed, even with SIGKILL): stop too. The run directory stays `running`, and
// the next invocation of the sweep runs the point again.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') {
    process.disconnect();
    return;
  }
  if (msg.type === 'run') {
    void runPoint(msg).then((done) => send(done));
  }
});

void send({ type: 'ready' });
