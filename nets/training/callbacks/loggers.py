"""File loggers: ``CSVLogger`` and ``JSONLogger``, one row or record per epoch (rank 0 alone in a
distributed fit)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ...util import validate as _v
from .base import Callback

__all__ = ["CSVLogger", "JSONLogger"]


class _FileLogger(Callback):
    """One record per epoch into ``path``; a resumed run keeps the records up to its epoch and
    appends (so the file matches the history), a new run starts the file afresh."""

    root_only = True  # one file, written by rank 0 of a distributed fit

    def __init__(self, path):
        self.path = Path(_v.path(path, "path", type(self).__name__))

    def _kept_lines(self, start):
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = self.run.start_epoch
        kept = self._kept_lines(start) if start > 0 and self.path.is_file() else []
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        self._file.writelines(kept)
        self._file.flush()
        self._started(kept)

    def _started(self, kept):
        pass

    def on_train_end(self, logs=None):
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()
            self._file = None

    def _write(self, text):
        self._file.write(text)
        self._file.flush()


class CSVLogger(_FileLogger):
    """Write each epoch's logs as a CSV row: ``epoch,train_loss,train_acc,...`` (epochs from 1)."""

    def _kept_lines(self, start):
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not lines:
            return []
        kept = [lines[0]]
        for line in lines[1:]:
            first = line.split(",", 1)[0]
            if first.isdigit() and int(first) <= start:
                kept.append(line)
        return kept

    def _started(self, kept):
        self._columns = next(csv.reader([kept[0]])) if kept else None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self._columns is None:
            self._columns = ["epoch", *logs]
            self._write(",".join(self._columns) + "\n")
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow(
            [epoch + 1] + [_fmt(logs.get(c, "")) for c in self._columns[1:]])
        self._write(row.getvalue())


def _fmt(v):
    return repr(float(v)) if isinstance(v, (float, np.floating)) else v


class JSONLogger(_FileLogger):
    """Write each epoch's logs as one JSON object per line (JSON Lines): ``{"epoch": 1, "train_loss": ...}``."""

    def _kept_lines(self, start):
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            try:
                if int(json.loads(line).get("epoch", 0)) <= start:
                    kept.append(line)
            except (ValueError, AttributeError, TypeError):
                continue
        return kept

    def on_epoch_end(self, epoch, logs=None):
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self._write(json.dumps(record) + "\n")
