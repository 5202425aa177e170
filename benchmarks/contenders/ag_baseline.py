"""autograd_np as it was at the git tag ``eager-baseline`` (the eager engine
before graph nodes were separated from tensors), run side by side with the
working tree's, so that a slowdown of the eager engine shows in the same run.

The commit is named by its hash, not by the tag, because a clone need not
carry tags (CI's does not); a copy without the git history cannot run it and
the contender is skipped with that reason.  The commit's ``autograd_np`` package is extracted with ``git archive`` into
``benchmarks/.cache/`` under the name ``autograd_np_baseline`` (its imports
are relative, so it runs beside the current one)."""
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

from . import ag_np

NAME = "autograd_np_baseline"
LABEL = "autograd_np at eager-baseline"
TAG = "eager-baseline"
REF = "d241200e48b11d81bfd32655d5af73f4d56c06d5"  # the commit the tag names
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / ".cache"


def available(ref=REF):
    """Whether this checkout's git history holds ``ref``."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                           capture_output=True, text=True)
    return found.returncode == 0


def _extract(ref):
    if not available(ref):
        raise ImportError(f"commit {ref[:12]} ({TAG}) is not in the git history of {ROOT} "
                          f"(a shallow clone or a copy without .git?)")
    folder = CACHE / ref[:12]
    package = folder / "autograd_np_baseline"
    if not (package / "__init__.py").is_file():
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "autograd_np"], capture_output=True)
        if tar.returncode != 0:
            raise ImportError(f"git archive {ref} failed: {tar.stderr.decode(errors='replace').strip()}")
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=BytesIO(tar.stdout)) as archive:
            archive.extractall(folder, filter="data")
        (folder / "autograd_np").rename(package)
    return folder


def setup():
    folder = _extract(REF)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    import autograd_np_baseline
    MLP.ag = autograd_np_baseline
    return f"autograd_np at {TAG} ({REF[:12]})"


class MLP(ag_np.MLP):
    ag = None


def make_chain(ops, x0):
    return ag_np.make_chain(ops, x0, MLP.ag)
