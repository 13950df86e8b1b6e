"""End to end: a real run directory made by the built CLI (`pnpm build` first), read from Python and
checked against what the JavaScript side reads from the same files."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

from goldstone_reader import load_run

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "apps", "cli", "dist", "bin.js")
NODE = shutil.which("node")

# The parameters of a checkpoint as @goldstone/run-store's loadCheckpoint decodes them, as JSON.
JS_LOAD = """
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint } from '@goldstone/run-store';
await tf.setBackend('cpu');
const c = await loadCheckpoint(process.argv[1]);
const out = {};
for (const s of c.specs) out[s.name] = { shape: c.params[s.name].shape, values: Array.from(c.params[s.name].dataSync()) };
process.stdout.write(JSON.stringify(out));
"""


@unittest.skipIf(os.environ.get("GOLDSTONE_READER_SKIP_CLI") == "1", "GOLDSTONE_READER_SKIP_CLI=1")
class CliRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if NODE is None or not os.path.isfile(BIN):
            raise RuntimeError(f"needs node and the built CLI ({BIN}): run `pnpm build` first")
        cls.tmp = tempfile.mkdtemp(prefix="goldstone-reader-")
        cls.out = os.path.join(cls.tmp, "quick")
        subprocess.run(
            [NODE, BIN, "run", os.path.join("experiments", "quickstart.yaml"), "--quick", "--no-report", "--out", cls.out, "--json"],
            cwd=REPO, check=True, stdout=subprocess.DEVNULL, timeout=1800,
        )
        cls.rd = load_run(cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def js_checkpoint(self, tag):
        text = subprocess.run(
            [NODE, "--input-type=module", "-e", JS_LOAD, os.path.join(self.out, "checkpoints", tag)],
            cwd=os.path.join(REPO, "apps", "cli"), check=True, capture_output=True, text=True, timeout=600,
        ).stdout
        return json.loads(text)

    def test_run_json_and_metrics(self):
        self.assertEqual(self.rd.info["status"], "completed")
        self.assertEqual(self.rd.name, "quickstart")
        if "git" in self.rd.info:
            self.assertRegex(self.rd.info["git"]["commit"], r"^[0-9a-f]{40}")
            self.assertIsInstance(self.rd.info["git"]["dirty"], bool)
        steps = self.rd.metric_rows("step")
        self.assertGreater(len(steps["loss"]), 0)
        self.assertTrue(np.all(np.isfinite(steps["loss"])))
        epochs = self.rd.metric_rows("epoch")
        self.assertEqual(len(epochs["epoch"]), self.rd.config["train"]["epochs"])
        # absent keys are NaN in the all-rows view: step rows carry no held-out loss
        test_loss = self.rd.metrics["test.loss"]
        kinds = self.rd.metrics["kind"]
        self.assertTrue(np.all(np.isnan(test_loss[kinds == "step"])))
        self.assertTrue(np.all(np.isfinite(test_loss[kinds == "epoch"])))
        # the rmse column is the square root of the mse column
        np.testing.assert_allclose(epochs["test.rmse"], np.sqrt(epochs["test.mse"]), rtol=1e-6)

    def test_analyses(self):
        self.assertIn("hessian", self.rd.analyses)
        result = self.rd.analyses["hessian"]["result"]
        self.assertEqual(result["paramCount"], sum(a.size for a in self.rd.load_checkpoint("last").values()))

    def test_checkpoints_match_the_javascript_reader(self):
        tags = self.rd.checkpoints()
        self.assertIn("init", tags)
        self.assertIn("last", tags)
        for tag in ("init", "last"):
            ours = self.rd.load_checkpoint(tag)
            theirs = self.js_checkpoint(tag)
            self.assertEqual(list(ours), list(theirs))
            for name, arr in ours.items():
                self.assertEqual(arr.dtype, np.float32)
                self.assertEqual(list(arr.shape), theirs[name]["shape"])
                np.testing.assert_array_equal(arr.ravel(), np.array(theirs[name]["values"], dtype=np.float32))
        # training moved the parameters
        init, last = self.rd.load_checkpoint("init"), self.rd.load_checkpoint("last")
        self.assertTrue(any(not np.array_equal(init[k], last[k]) for k in init))

    def test_optimizer_state(self):
        state = self.rd.load_checkpoint("last", optimizer=True)
        self.assertGreater(len(state), 0)
        for arr in state.values():
            self.assertEqual(arr.dtype, np.float32)
            self.assertTrue(np.all(np.isfinite(arr)))


if __name__ == "__main__":
    unittest.main()
