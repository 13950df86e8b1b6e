"""Fast cases on a hand-made run directory (tests/fixtures/tiny-run)."""

import math
import os
import shutil
import tempfile
import unittest

import numpy as np

from goldstone_reader import load_run
from goldstone_reader.run import load_weights

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "tiny-run")


class FixtureRun(unittest.TestCase):
    def setUp(self):
        self.rd = load_run(FIXTURE)

    def test_run_json(self):
        self.assertEqual(self.rd.name, "tiny")
        self.assertEqual(self.rd.info["status"], "completed")
        self.assertEqual(self.rd.info["git"], {"commit": "0" * 40, "dirty": False})
        self.assertEqual(self.rd.config["train"]["epochs"], 1)

    def test_metrics_are_arrays_with_nan_where_absent(self):
        # the torn last line is skipped, as the JS reader does
        self.assertEqual(len(self.rd.rows), 3)
        self.assertEqual(list(self.rd.metrics), ["kind", "step", "epoch", "loss", "lr", "train.loss", "test.loss"])
        loss = self.rd.metrics["loss"]
        self.assertEqual(loss.dtype, np.float64)
        self.assertEqual(loss[0], 0.5)
        self.assertTrue(math.isnan(loss[1]) and math.isnan(loss[2]))  # absent, then null
        self.assertEqual(list(self.rd.metrics["kind"]), ["step", "epoch", "step"])
        epochs = self.rd.metric_rows("epoch")
        self.assertEqual(sorted(epochs), ["epoch", "kind", "test.loss", "train.loss"])
        np.testing.assert_array_equal(epochs["test.loss"], [0.375])

    def test_analyses_by_id(self):
        self.assertEqual(list(self.rd.analyses), ["hessian"])
        self.assertEqual(self.rd.analyses["hessian"]["result"]["topEigenvalues"], [2.0, 1.0])

    def test_checkpoint_from_concatenated_shards(self):
        self.assertEqual(self.rd.checkpoints(), ["last"])
        self.assertEqual(self.rd.last_checkpoint(), "last")
        params = self.rd.load_checkpoint("last")
        self.assertEqual(list(params), ["w", "b"])
        self.assertEqual(params["w"].dtype, np.float32)
        self.assertEqual(params["w"].shape, (2, 3))
        np.testing.assert_array_equal(params["w"], np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
        np.testing.assert_array_equal(params["b"], np.array([1.5, -2.0], dtype=np.float32))

    def test_errors(self):
        with self.assertRaises(FileNotFoundError):
            load_run(os.path.join(FIXTURE, "analyses"))
        with self.assertRaises(FileNotFoundError):
            self.rd.load_checkpoint("nope")
        with self.assertRaises(ValueError):
            self.rd.load_checkpoint("last", optimizer=True)  # no optimiser group saved

    def test_short_shard_is_an_error(self):
        tmp = tempfile.mkdtemp()
        try:
            dst = os.path.join(tmp, "ck")
            shutil.copytree(os.path.join(FIXTURE, "checkpoints", "last"), dst)
            with open(os.path.join(dst, "weights.b.bin"), "r+b") as f:
                f.truncate(4)
            with self.assertRaises(ValueError):
                load_weights(dst)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
