"""A goldstone run directory as Python objects (numpy only).

    run/run.json                  resolved config, seed, backend, versions, git, status
    run/metrics.jsonl             one JSON object a line
    run/analyses/<id>.json        {"result", "figures", "provenance"}
    run/checkpoints/<tag>/        model.json (a tfjs weights manifest) + .bin shards
    run/checkpoints/last.json     {"tag": ...} of the last good checkpoint
"""

import json
import math
import os
from typing import Any, Dict, List, Optional

import numpy as np

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
ANALYSES_DIR = "analyses"
CHECKPOINTS_DIR = "checkpoints"
MODEL_FILE = "model.json"

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


def _read_json(path: str) -> Any:
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def _metric_array(values: List[Any]) -> np.ndarray:
    """A column: float64 with NaN where a row lacks the key (or holds null); other values as objects."""
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(values, dtype=object)


class Run:
    """One run directory: ``info`` (run.json), ``rows`` and ``metrics``, ``analyses``, checkpoints."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        run_file = os.path.join(self.path, RUN_FILE)
        if not os.path.isfile(run_file):
            raise FileNotFoundError(f"{run_file}: not found: not a goldstone run directory")
        info = _read_json(run_file)
        if not isinstance(info, dict):
            raise ValueError(f"{run_file}: expected a JSON object")
        self.info: Dict[str, Any] = info
        #: metrics.jsonl rows in file order (a line that is not a JSON object, e.g. cut by a crash, is skipped).
        self.rows: List[Dict[str, Any]] = []
        metrics_file = os.path.join(self.path, METRICS_FILE)
        if os.path.isfile(metrics_file):
            with open(metrics_file, "r", encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(row, dict):
                        self.rows.append(row)
        keys: List[str] = []
        seen = set()
        for row in self.rows:
            for k in row:
                if k not in seen:
                    seen.add(k)
                    keys.append(k)
        #: key -> array over all rows (NaN where a row lacks it), keys in first-seen order.
        self.metrics: Dict[str, np.ndarray] = {k: _metric_array([r.get(k) for r in self.rows]) for k in keys}
        #: analysis id -> {"result", "figures", "provenance"}.
        self.analyses: Dict[str, Dict[str, Any]] = {}
        analyses_dir = os.path.join(self.path, ANALYSES_DIR)
        if os.path.isdir(analyses_dir):
            for name in sorted(os.listdir(analyses_dir)):
                if name.endswith(".json") and not name.startswith("."):
                    self.analyses[name[: -len(".json")]] = _read_json(os.path.join(analyses_dir, name))

    @property
    def name(self) -> str:
        return str(self.info.get("name", os.path.basename(self.path)))

    @property
    def config(self) -> Dict[str, Any]:
        return self.info.get("config") or {}

    def metric_rows(self, kind: str) -> Dict[str, np.ndarray]:
        """``metrics`` restricted to rows of one kind ("step" or "epoch"), keys that kind has."""
        picked = [r for r in self.rows if r.get("kind") == kind]
        keys = [k for k in self.metrics if any(k in r for r in picked)]
        return {k: _metric_array([r.get(k) for r in picked]) for k in keys}

    def checkpoints(self) -> List[str]:
        """Tags of the checkpoints (directories holding a model.json), sorted; "last" is the last good one."""
        root = os.path.join(self.path, CHECKPOINTS_DIR)
        if not os.path.isdir(root):
            return []
        return sorted(
            t for t in os.listdir(root) if not t.startswith(".") and os.path.isfile(os.path.join(root, t, MODEL_FILE))
        )

    def last_checkpoint(self) -> Optional[str]:
        """The tag recorded in checkpoints/last.json, if any."""
        path = os.path.join(self.path, CHECKPOINTS_DIR, "last.json")
        if not os.path.isfile(path):
            return None
        tag = _read_json(path).get("tag")
        return str(tag) if tag is not None else None

    def load_checkpoint(self, tag: str = "last", optimizer: bool = False) -> Dict[str, np.ndarray]:
        """Parameters of a checkpoint: name -> array with the manifest's shape and dtype (float32).

        Reads the first weights group of model.json (its .bin shards concatenated in order); with
        ``optimizer=True`` the optimiser state group (if saved) instead.
        """
        return load_weights(os.path.join(self.path, CHECKPOINTS_DIR, tag), group=1 if optimizer else 0)

    def __repr__(self) -> str:
        return f"Run({self.path!r}, status={self.info.get('status')!r}, rows={len(self.rows)}, analyses={list(self.analyses)})"


def load_weights(directory: str, group: int = 0) -> Dict[str, np.ndarray]:
    """Decode one group of a tfjs weights manifest (``directory/model.json``) into numpy arrays."""
    model_file = os.path.join(directory, MODEL_FILE)
    if not os.path.isfile(model_file):
        raise FileNotFoundError(f"{model_file}: not found: no checkpoint there")
    manifest = _read_json(model_file)
    groups = manifest.get("weightsManifest") if isinstance(manifest, dict) else None
    if not isinstance(groups, list) or len(groups) <= group:
        raise ValueError(f"{model_file}: weightsManifest has no group {group}")
    entry = groups[group]
    data = b"".join(_read_bytes(os.path.join(directory, p)) for p in entry["paths"])
    out: Dict[str, np.ndarray] = {}
    offset = 0
    for w in entry["weights"]:
        dtype = w.get("dtype", "float32")
        if dtype not in _DTYPES or "quantization" in w:
            raise ValueError(f"{model_file}: weight {w['name']!r}: dtype {dtype} (or quantised) is not supported")
        shape = tuple(int(s) for s in w["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        itemsize = 1 if dtype == "bool" else 4
        nbytes = count * itemsize
        if offset + nbytes > len(data):
            raise ValueError(f"{model_file}: the .bin shards hold {len(data)} bytes, weight {w['name']!r} needs up to {offset + nbytes}")
        raw = np.frombuffer(data, dtype=np.uint8 if dtype == "bool" else np.dtype(_DTYPES[dtype]).newbyteorder("<"), count=count, offset=offset)
        arr = raw.astype(np.bool_) if dtype == "bool" else raw.astype(_DTYPES[dtype])
        out[w["name"]] = arr.reshape(shape)
        offset += nbytes
    if offset != len(data):
        raise ValueError(f"{model_file}: the .bin shards hold {len(data)} bytes, the manifest describes {offset}")
    return out


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def load_run(path: str) -> Run:
    """Open a goldstone run directory (raises FileNotFoundError when it has no run.json)."""
    return Run(path)
