"""Training checkpoints during ``fit``: the file checked before the first epoch, a run resumed
from it (everything checked before anything changes), and the file written after every epoch
(by rank 0; a failure there is raised on every rank)."""
from __future__ import annotations

from pathlib import Path

from ..io.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from ..layers import StateDictError
from .history import History

__all__ = ["FILE_ERRORS", "prepare", "save"]

FILE_ERRORS = (CheckpointError, OSError)  # raised on every rank when rank 0 meets them reading or writing


def prepare(checkpoint, resume, run, cbs, loader, randoms, world) -> int:
    """Refuse a ``checkpoint`` path that is a folder (before the first epoch, not after it); with
    ``resume``, continue from the file when it exists (``run``'s history and epochs set from
    it).  Returns the first epoch to train."""
    if checkpoint is None:
        return 0
    world.on_root(lambda: _refuse_folder(checkpoint), FILE_ERRORS)  # (rank 0 writes it)
    if not resume:
        return 0
    data = world.bcast_bytes(world.on_root(lambda: _existing_checkpoint(checkpoint), FILE_ERRORS))
    if data is None:
        return 0
    history, start = _resume(checkpoint, data, run.model, run.optimizer, loader, randoms, run.epochs, cbs)
    run.history, run.start_epoch, run.epoch = history, start, start
    if run.verbose:
        run.print(f"resumed from {checkpoint} after epoch {start}" +
                  (f" (on {world.size} ranks)" if world.size > 1 else ""))
    return start


def _resume(checkpoint, data, model, optimizer, loader, randoms, epochs, callbacks):
    """Restore model, optimizer, generators, callbacks and history from ``checkpoint`` (the
    file's bytes ``data``, read by rank 0); returns
    ``(history, epochs done)``.  Everything is checked before the model, optimizer or
    generators change: a checkpoint after more epochs than asked, a history that does not
    match its epoch count, generator states another kind of generator cannot take, callbacks
    other than those saved, or weights and optimizer state of another architecture are a
    ``CheckpointError`` naming the file."""
    ck = load_checkpoint(checkpoint, data)
    start = ck["epoch"]
    if start > epochs:
        raise CheckpointError(f"{checkpoint}: saved after epoch {start}, but this run asks for {epochs} epochs in "
                              f"all; ask for at least {start} epochs, or start afresh elsewhere")
    history = History() if ck["history"] is None else History.from_dict(ck["history"])
    if ck["history"] is not None and len(history) != start:
        raise CheckpointError(f"{checkpoint}: field 'history': holds {len(history)} epochs but the checkpoint is "
                              f"after epoch {start}")
    states = [(loader.rng, "loader", ck["rng"].get("loader"))]
    states += [(randoms[name].rng, f"modules.{name}", state)
               for name, state in ck["rng"].get("modules", {}).items() if name in randoms]
    for gen, name, state in states:  # try each on a copy of the generator first
        if state is None:
            continue
        try:
            type(gen.bit_generator)().state = state
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise CheckpointError(f"{checkpoint}: field 'rng.{name}': does not fit this run's "
                                  f"{type(gen.bit_generator).__name__} generator: {exc}") from None
    try:  # callbacks only keep their state: nothing of the model changes here
        callbacks.load_states(ck.get("callbacks", []), str(checkpoint))
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(str(checkpoint)):
            message = f"{checkpoint}: field 'callbacks': {message}"
        raise CheckpointError(message) from None
    try:  # another architecture or optimizer: say which file, not just which state
        model.load_state_dict(ck["model_state"])
        if ck["optimizer_state"] is not None:
            optimizer.load_state_dict(ck["optimizer_state"])
    except (ValueError, TypeError, StateDictError) as exc:
        raise CheckpointError(f"{checkpoint}: cannot resume from it: {exc}; resume with the same "
                              "layers and optimizer, or start afresh elsewhere") from None
    for gen, _, state in states:
        if state is not None:
            gen.bit_generator.state = state
    return history, start


def save(checkpoint, model, optimizer, epochs_done, loader, randoms, history, cbs):
    rng_states = {"loader": loader.rng.bit_generator.state,
                  "modules": {name: m.rng.bit_generator.state for name, m in randoms.items()}}
    save_checkpoint(checkpoint, model, optimizer, epochs_done, rng_states, history, callbacks=cbs.states())


def _refuse_folder(checkpoint):
    if Path(checkpoint).is_dir():
        raise CheckpointError(f"{checkpoint}: is a folder, not a checkpoint file")


def _existing_checkpoint(checkpoint):
    """The checkpoint file's bytes, or None when there is none yet (read by rank 0 only)."""
    path = Path(checkpoint)
    return checkpoint_bytes(path) if path.exists() or path.is_symlink() else None
