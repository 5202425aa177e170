"""Text corpora for character-level language models: Debian's fortune files, and a character
vocabulary.

    entries = nets.text.load_fortunes()                 # every English fortune (apt-get install fortunes)
    poems = nets.text.load_fortunes("fortunes-zh")      # 300 Tang and 100 Song poems (apt-get install fortunes-zh)
    train, val, test = nets.text.split_entries(entries, seed=0)
    vocab = nets.text.CharVocab.from_text(train)
    ids = vocab.encode(train)                           # int32 ids; vocab.decode(ids) gives the text back

A fortune file (``/usr/share/games/fortunes/<name>``, or the folder ``NETS_FORTUNES_DIR``
names) is UTF-8 text whose entries are separated by lines holding only ``%``; the ``.dat``
index next to it marks it as one.  ``"fortunes"`` is every file of Debian's ``fortunes``
package (about 2.4 MB of English), ``"fortunes-zh"`` the classical poems of ``fortunes-zh``
(``tang300`` and ``song100``, about 40,000 characters).  Terminal colour codes (the poems'
titles) and overstriking (``_\\b``) are removed.  A missing folder or file, a file too large,
a binary file or one that is not UTF-8 is a ``DatasetError`` naming the file and the fix.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ..util import validate as _v
from .idx import DatasetError

__all__ = ["FORTUNES_DIR", "CORPORA", "MAX_FILE_BYTES", "find_fortunes", "fortune_files", "read_fortune_file",
           "load_fortunes", "split_entries", "join_entries", "CharVocab"]

FORTUNES_DIR = "/usr/share/games/fortunes"  # where Debian's fortunes packages put the files
ZH_FILES = ("tang300", "song100")            # the poems of fortunes-zh
OTHER_ZH = ("chinese",)                     # fortunes-zh's modern sayings: in neither corpus
#: The corpora ``load_fortunes`` reads, each with the command that installs it.
CORPORA = {"fortunes": "apt-get install fortunes", "fortunes-zh": "apt-get install fortunes-zh"}
MAX_FILE_BYTES = 64 * 2 ** 20                # a fortune file is kilobytes; the largest Debian ships is 2 MB
SEPARATOR = "%\n"                            # between two entries, as in the files
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")   # terminal colours
_OVERSTRIKE = re.compile(r".\x08")                 # "_\bA": underlined A, as nroff writes it
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def find_fortunes(path=None):
    """The fortune folder: ``path``, else ``$NETS_FORTUNES_DIR``, else ``/usr/share/games/fortunes``;
    None when it does not exist."""
    folder = Path(path if path is not None else os.environ.get("NETS_FORTUNES_DIR", FORTUNES_DIR))
    return folder if folder.is_dir() else None


def fortune_files(corpus="fortunes", path=None) -> list[Path]:
    """The files of ``corpus`` ("fortunes" or "fortunes-zh") in the fortune folder, sorted by
    name; a ``DatasetError`` saying what to install when the folder or the files are missing."""
    corpus = _v.choice(corpus, "corpus", "fortune_files", tuple(CORPORA))
    folder = find_fortunes(path)
    if folder is None:
        where = path if path is not None else os.environ.get("NETS_FORTUNES_DIR", FORTUNES_DIR)
        raise DatasetError(f"fortune files: no folder {str(where)!r}; install them with "
                           f"'{CORPORA[corpus]}' (as root), or name the folder with NETS_FORTUNES_DIR")
    if corpus == "fortunes-zh":
        files = [folder / name for name in ZH_FILES if (folder / name).is_file()]
    else:  # every fortune file (a sibling .dat index) but the Chinese ones
        files = sorted(p.with_suffix("") for p in folder.glob("*.dat")
                       if p.with_suffix("").is_file() and p.stem not in ZH_FILES + OTHER_ZH)
    if not files:
        raise DatasetError(f"fortune files: {str(folder)!r} holds no file of the {corpus!r} corpus; install it with "
                           f"'{CORPORA[corpus]}' (as root)")
    return files


def _decoded(path: Path, data: bytes) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DatasetError(f"{path}: a binary file (a NUL byte at offset {nul}), not a fortune file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None


def read_fortune_file(path, max_bytes: int = MAX_FILE_BYTES) -> list[str]:
    """The entries of one fortune file, cleaned (colour codes, overstriking and other control
    characters removed; each entry ends with a newline); empty entries are skipped."""
    path = Path(_v.path(path, "path", "read_fortune_file"))
    max_bytes = _v.integer(max_bytes, "max_bytes", "read_fortune_file")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise DatasetError(f"{path}: {size:,} bytes, more than max_bytes={max_bytes:,}: not a fortune file? "
                           "(pass a larger max_bytes to read it)")
    with open(path, "rb") as f:
        text = _decoded(path, f.read(max_bytes + 1))
    text = _CONTROL.sub("", _OVERSTRIKE.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n"))))
    entries = re.split(r"(?m)^%\n", text if text.endswith("\n") else text + "\n")
    return [e for e in entries if e.strip()]


def load_fortunes(corpus="fortunes", path=None, max_bytes: int = MAX_FILE_BYTES) -> list[str]:
    """Every entry of the ``corpus``'s files ("fortunes": Debian's English fortunes; "fortunes-zh":
    its Tang and Song poems), file after file in name order."""
    entries = []
    for file in fortune_files(corpus, path):
        entries += read_fortune_file(file, max_bytes)
    return entries


def split_entries(entries, val: float = 0.05, test: float = 0.05, seed: int = 0):
    """``(train, val, test)`` texts: the entries shuffled by ``seed`` and dealt out (``val`` and
    ``test`` are fractions of the entries, at least one each), each part joined with ``%``
    lines (``join_entries``).  A whole entry lands in one part: no fortune is in two."""
    who = "split_entries"
    if isinstance(entries, str) or not isinstance(entries, (list, tuple)) or not all(
            isinstance(e, str) for e in entries):
        raise TypeError(f"{who}: entries must be a list of strings (load_fortunes gives one)")
    val = _v.number(val, "val", who, low=0.0, high=1.0, low_open=True, high_open=True)
    test = _v.number(test, "test", who, low=0.0, high=1.0, low_open=True, high_open=True)
    if len(entries) < 3 or val + test >= 1.0:
        raise ValueError(f"{who}: {len(entries)} entries with val={val} and test={test}: need 3 entries or more and "
                         "val + test < 1")
    order = np.random.default_rng(_v.seed(seed, "seed", who)).permutation(len(entries))
    n_val, n_test = max(1, round(val * len(entries))), max(1, round(test * len(entries)))
    parts = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]
    if len(parts[2]) == 0:
        raise ValueError(f"{who}: {len(entries)} entries leave none for training with val={val} and test={test}")
    val_text, test_text, train_text = (join_entries([entries[i] for i in sorted(p)]) for p in parts)
    return train_text, val_text, test_text


def join_entries(entries) -> str:
    """The entries as one text, a ``%`` line after each (as in a fortune file)."""
    return "".join((e if e.endswith("\n") else e + "\n") + SEPARATOR for e in entries)


class CharVocab:
    """Characters <-> integer ids.  ``CharVocab.from_text(text)``: the characters of ``text``,
    sorted, plus ``unknown`` (U+FFFD) that ``encode`` gives any other character.
    ``encode(text)`` -> int32 ids, ``decode(ids)`` -> text; ``len(vocab)``; ``to_json`` /
    ``from_json`` to keep it next to a model."""

    UNKNOWN = "\ufffd"

    def __init__(self, chars):
        if not isinstance(chars, (list, tuple, str)) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise TypeError("CharVocab: chars must be a list of single characters")
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab: chars holds a character twice")
        if self.UNKNOWN not in chars:
            chars.append(self.UNKNOWN)
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}
        self.unknown = self.index[self.UNKNOWN]

    @classmethod
    def from_text(cls, text):
        if not isinstance(text, str) or not text:
            raise TypeError(f"CharVocab.from_text: text must be a non-empty string, got {text!r:.60}")
        return cls(sorted(set(text) - {cls.UNKNOWN}))

    def __len__(self):
        return len(self.chars)

    def encode(self, text) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: text must be a string, got {type(text).__name__}")
        get, unknown = self.index.get, self.unknown
        return np.fromiter((get(c, unknown) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" or ids.ndim != 1:
            raise TypeError(f"CharVocab.decode: ids must be a 1-d array of integers, got {ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {len(self.chars) - 1}], got "
                             f"{int(ids.min() if ids.min() < 0 else ids.max())}")
        return "".join(self.chars[i] for i in ids.tolist())

    def to_json(self) -> str:
        return json.dumps({"chars": self.chars}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text):
        try:
            return cls(json.loads(text)["chars"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"CharVocab.from_json: not a vocabulary ({exc})") from None

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"
