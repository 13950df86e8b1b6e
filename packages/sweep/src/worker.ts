/**
 * A local sweep worker: a child process forked by the local executor that takes jobs over IPC
 * (a point, or a vectorised group of points) and runs each point exactly as `goldstone run FILE
 * --set path=value …` would, into the point's own run directory. It writes nothing else; the sweep alone writes sweep.json.
 */
import type { FromWorker, ToWorker } from './protocol';
import { PointRunner } from './run-point';

const runner = new PointRunner();

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function onSignal(signal: NodeJS.Signals): void {
  const stores = [...runner.running];
  const exit = () => process.exit(130);
  if (stores.length === 0) return exit();
  const finishedAt = new Date().toISOString();
  Promise.all(stores.map((store) => store.updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt }))).then(exit, exit);
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
    // one `done` per point (a vectorised group's points end one after another)
    void runner.runJob(msg.job, (id, result) => send({ type: 'done', id, ...result }));
  }
});

void send({ type: 'ready' });
