"""Two process settings for large arrays, applied once, when a kernel first splits a loop of
at least ``PARALLEL_MIN`` elements between two threads (``conv_kernels.by_channels``:
convolutional nets; an MLP never does).  Each is measured on the 2-core machine with
the two-block CNN step (benchmarks workload 6b, eager) and explained in
docs/guides/performance.md; ``AUTOGRAD_NP_TUNING=off`` leaves both alone.

* OpenBLAS's idle spin.  After each matmul, OpenBLAS's worker threads spin, waiting for
  the next one, for 2^28 CPU cycles (about 0.1 s) before they sleep.  On a machine with
  as many cores as BLAS threads, a spinning worker takes the core the kernels' helper
  thread needs, and a convolutional step is matmuls with elementwise loops between: the
  step took 79.2 ms with that spin and 70.9 ms with 2^22 cycles (about 1.5 ms), which
  ``shorten_blas_spin`` sets.  The MLP steps, whose matmuls come every few tens of
  microseconds, keep their speed with 2^22 (1a: 342 us against 340-377 with the
  default) and lost 30% with 2^18.  A value of ``OPENBLAS_THREAD_TIMEOUT`` set by the
  user stands.  OpenBLAS reads it when it starts its threads: it is set, OpenBLAS reads
  it again and stops its threads, and the next matmul starts them with it.
* glibc's freed memory.  A step allocates and frees arrays of tens of megabytes (the
  im2col columns, the activations); glibc gives freed memory at its heap's top back to
  the system once more than twice the largest recent block is free there, and the next
  step's arrays then take fresh pages, which the system zeroes on first touch.  The step
  took 69.8 ms so and 51.1 ms with glibc keeping up to ``KEEP_FREED`` bytes
  (``keep_freed_memory``: ``mallopt``'s trim threshold, with the size from which an
  array gets its own mapping set to its largest, 32 MiB).  The process then holds on to
  memory it freed, up to that much above what it uses.  ``MALLOC_TRIM_THRESHOLD_`` or
  ``MALLOC_MMAP_THRESHOLD_`` set by the user leaves glibc as they chose.

Elsewhere than Linux with glibc and OpenBLAS, nothing changes.
"""
import ctypes
import os
import platform

__all__ = ["ENV", "apply_once", "shorten_blas_spin", "keep_freed_memory", "openblas_libraries"]

ENV = "AUTOGRAD_NP_TUNING"  # "off": neither setting; "on" (or unset): both
BLAS_ENV, SPIN_LOG2 = "OPENBLAS_THREAD_TIMEOUT", 22
MALLOC_ENVS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
KEEP_FREED = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _MMAP_MAX = -1, -3, 32 << 20
_applied = {}


def apply_once():
    """Both settings, the first time in this process (a forked child inherits them);
    what was done: {"blas": libraries changed, "malloc": whether glibc took it}."""
    choice = os.environ.get(ENV, "").strip().lower()
    if choice not in ("", "on", "off"):
        raise ValueError(f"{ENV}={os.environ[ENV]!r}: expected on or off")
    if _applied or choice == "off":
        return _applied
    _applied["blas"] = shorten_blas_spin()
    _applied["malloc"] = keep_freed_memory()
    return _applied


def openblas_libraries():
    """Paths of the OpenBLAS libraries loaded in this process (from /proc/self/maps;
    empty elsewhere than Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/"))


def shorten_blas_spin():
    """OpenBLAS's idle spin set to 2^SPIN_LOG2 cycles unless the user chose one; the
    libraries changed (their paths)."""
    if BLAS_ENV in os.environ:
        return []
    os.environ[BLAS_ENV] = str(SPIN_LOG2)
    changed = []
    for path in openblas_libraries():
        try:
            lib = ctypes.CDLL(path)
            read_env, stop = lib.openblas_read_env, lib.blas_thread_shutdown_
        except (OSError, AttributeError):  # (another build: left as it is)
            continue
        read_env()
        stop()
        changed.append(path)
    return changed


def keep_freed_memory():
    """glibc told to keep up to KEEP_FREED freed bytes and to serve arrays up to 32 MiB
    from its heap, unless the user chose; whether it took both."""
    if any(name in os.environ for name in MALLOC_ENVS) or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, KEEP_FREED))
