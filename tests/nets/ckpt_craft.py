"""Helpers for the checkpoint tests: hand-made .npz archives, good and hostile."""
import io
import json
import struct
import zipfile

import numpy as np

import nets


def npy_bytes(array=None, header=None, version=(1, 0), data=None, magic=b"\x93NUMPY"):
    """An .npy member: ``array`` written by numpy, or a ``header`` dict/string of our own
    (then ``data`` follows it as the raw data bytes)."""
    if header is None:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
        return buf.getvalue()
    text = header if isinstance(header, str) else repr(header)
    text = text.encode("latin1")
    text += b" " * ((-(len(text) + 11)) % 64) + b"\n"
    fmt = "<H" if version[0] == 1 else "<I"
    return magic + bytes(version) + struct.pack(fmt, len(text)) + text + (data or b"")


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """``members``: (name, bytes) pairs written as they are (duplicates allowed)."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, raw in members:
            zf.writestr(zipfile.ZipInfo(name), raw, compress_type=compression)
    return path


def model_members(model=None, meta_changes=None, training=None, drop=(), extra=()):
    """The members ``model.save`` (or ``save_checkpoint`` with ``training``) would write,
    with ``meta_changes`` applied to ``__nets__`` (a value of ``...`` deletes the field)."""
    model = model or nets.MultiLayerNet([4, 3, 2], rng=0)
    meta = {"format": 1, "class": type(model).__name__, "config": model.config(), "dtype": "float32",
            "kind": "model" if training is None else "training"}
    for k, v in (meta_changes or {}).items():
        if v is ...:
            meta.pop(k, None)
        else:
            meta[k] = v
    members = [(f"model/{k}.npy", npy_bytes(v)) for k, v in model.state_dict().items() if f"model/{k}" not in drop]
    members.append(("__nets__.npy", npy_bytes(np.array(json.dumps(meta)))))
    if training is not None:
        members.append(("__training__.npy", npy_bytes(np.array(json.dumps(training)))))
    return members + list(extra)


def patch_central_sizes(path, name, file_size=None, compress_size=None, header_offset=None):
    """Rewrite the zip's central directory entry of ``name`` (declared sizes, offset)."""
    raw = bytearray(open(path, "rb").read())
    at = 0
    while True:
        at = raw.index(b"PK\x01\x02", at)
        n_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46: at + 46 + n_len].decode() == name:
            break
        at += 4
    if compress_size is not None:
        struct.pack_into("<I", raw, at + 20, compress_size)
    if file_size is not None:
        struct.pack_into("<I", raw, at + 24, file_size)
    if header_offset is not None:
        struct.pack_into("<I", raw, at + 42, header_offset)
    open(path, "wb").write(bytes(raw))
    return path
