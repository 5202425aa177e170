"""The epochs of one ``fit`` call: every batch's step (and, on several ranks, the gradients'
allreduce), the progress bar, the validation and test scores, the line printed per epoch,
the callbacks' hooks and the checkpoint written after each epoch."""
from __future__ import annotations

import math
import sys
import time

from . import resume as _resume
from .evaluation import eval_scores

__all__ = ["Epochs"]


class Epochs:
    """The epochs of one ``fit`` call (``run``: its ``FitRun``): ``fit`` runs them all, ``train``
    one pass over the batches; ``step(x, t)`` is the forward, criterion and backward."""

    def __init__(self, run, loader, step, metric_list, cbs, world, randoms, show_bar):
        self.run, model, optimizer = run, run.model, run.optimizer
        self.model, self.optimizer, self.loader, self.step = model, optimizer, loader, step
        self.metric_list, self.cbs, self.world, self.randoms = metric_list, cbs, world, randoms
        self.show_bar = show_bar
        self.before_step = cbs.needs_before_step()
        # what the optimizer steps (a tensor of its own outside the model too), then the model's others
        stepped = list(getattr(optimizer, "params", None) or ())
        known = {id(p) for p in stepped}
        self.params = stepped + [p for p in model.parameters() if id(p) not in known]

    def _step(self, xb, tb):
        """Forward, criterion and backward on a global batch: ``(its loss, this rank's outputs
        (None for an empty shard) and targets)``; on several ranks the gradients are averaged."""
        self.optimizer.zero_grad()
        if self.world.size == 1:
            loss, y = self.step(xb, tb)
            return float(loss.item()), y, tb
        xs, ts = self.world.shard(xb, tb)
        value, y = 0.0, None
        if len(xs):
            loss, y = self.step(xs, ts)
            value = float(loss.item())
            del loss
        return self.world.allreduce_grads(self.params, len(xs), len(xb), value), y, ts

    def _bar(self, epoch, epochs):
        if not self.show_bar:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=len(self.loader), desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch",
                    dynamic_ncols=True, file=sys.stderr)

    def _diverged(self, bar, epoch, batch, value):
        if bar is not None:
            bar.close()
        raise FloatingPointError(f"fit: the training loss became {value} at batch {batch + 1} of epoch {epoch + 1}; "
                                 "lower the learning rate" + (" or clip the gradients (nets.GradientClipping)"
                                                              if not self.before_step else ""))

    def train(self, epoch, epochs):
        """One pass over the loader: ``(train logs, the epoch's learning rate, progress bar or None)``."""
        self.model.train()
        self.world.spread_generators(self.randoms)
        self.cbs.call("on_epoch_begin", epoch, {})
        if hasattr(self.step, "reset"):  # truncated BPTT (nets.training.bptt): each epoch starts from a zero state
            self.step.reset()
        lr = float(self.optimizer.lr) if hasattr(self.optimizer, "lr") else math.nan  # as the schedule set it
        names = [m.name for m in self.metric_list]
        total_loss, seen = 0.0, 0
        sums = dict.fromkeys(names, 0.0)
        bar = self._bar(epoch, epochs)
        for b, (xb, tb) in enumerate(self.loader):
            self.cbs.call("on_batch_begin", b, {})
            value, y, tl = self._step(xb, tb)  # forward, criterion, backward (and the allreduce)
            if not math.isfinite(value):  # (the data is finite: fit checked it)
                self._diverged(bar, epoch, b, value)
            if self.before_step:
                self.cbs.call("on_before_optimizer_step", b, {"loss": value})
            self.optimizer.step()
            total_loss += value * len(xb)
            seen += len(xb)
            if y is not None:
                for m in self.metric_list:
                    sums[m.name] += m(y, tl) * len(tl)
            del y  # the graph holds this step's activations: drop it before the next forward
            self.cbs.call("on_batch_end", b, {"loss": value, "size": len(xb)})
            if bar is not None:
                bar.update(1)
                if bar.n % 10 == 0 or bar.n == len(self.loader):  # (on several ranks the metrics come at the end)
                    post = {} if self.world.size > 1 else {k: f"{v / seen:.4f}" for k, v in sums.items()}
                    bar.set_postfix({"loss": f"{total_loss / seen:.4f}", **post}, refresh=False)
        if self.world.size > 1:
            sums = dict(zip(names, self.world.sum(list(sums.values()))))
            self.world.end_epoch(self.model, self.optimizer, epoch)  # buffers averaged; weights checked equal
        return {"train_loss": total_loss / seen, **{f"train_{k}": v / seen for k, v in sums.items()}}, lr, bar

    def fit(self, start, sets, eval_batch_size, checkpoint):
        """Epochs ``start`` to ``run.epochs`` (fewer when a callback stops the run): train, score the
        ``sets`` (``{"val": (x, t), "test": (x, t)}``), record, report, save ``checkpoint``; returns
        the history.  A failure on one rank ends every rank."""
        run, world, history, epochs = self.run, self.world, self.run.history, self.run.epochs
        show_lr, log, verbose = self.cbs.changes_lr(), run.print, run.verbose
        with world.exit_aborts():  # sys.exit or Ctrl-C on one rank: every rank ends
            self.cbs.call("on_train_begin", {})
            for epoch in range(start, epochs):
                if run.stop_training:
                    break
                run.epoch = epoch
                t0 = time.perf_counter()
                logs, lr, bar = self.train(epoch, epochs)
                for part, (x, t) in sets.items():
                    scores = (self.step.scores(part, x, t, self.metric_list, eval_batch_size, world)
                              if hasattr(self.step, "scores")  # a state carried through a SequenceLoader's rows
                              else eval_scores(self.model, x, t, self.metric_list, eval_batch_size, world))
                    logs.update({f"{part}_{k}": v for k, v in scores.items()})
                logs["lr"] = lr
                logs["seconds"] = world.bcast(time.perf_counter() - t0)  # rank 0's, so the histories agree
                history.record(logs)
                if bar is not None:
                    bar.set_postfix({k.replace("train_", ""): f"{v:.4f}" for k, v in logs.items()
                                     if k not in ("lr", "seconds")})
                    bar.close()
                elif verbose:
                    log(_summary(epoch, epochs, logs, list(sets), [m.name for m in self.metric_list], show_lr))
                self.cbs.call("on_epoch_end", epoch, logs)
                if world.size > 1:  # a root-only callback may ask to stop: every rank stops
                    run.stop_training = world.any(run.stop_training)
                if checkpoint is not None:
                    self._save(checkpoint, epoch + 1, history)
            self.cbs.call("on_train_end", {})
            world.broadcast_model(self.model)  # (a root-only callback may have restored other weights)
        self.model.train()
        return history

    def _save(self, checkpoint, epochs_done, history):
        self.world.on_root(lambda: _resume.save(checkpoint, self.model, self.optimizer, epochs_done, self.loader,
                                                self.randoms, history, self.cbs), _resume.FILE_ERRORS)


def _summary(epoch, epochs, logs, sets, metric_names, show_lr):
    parts = [f"epoch {epoch + 1}/{epochs}: loss {logs['train_loss']:.4f}"]
    parts[0] += "".join(f" {m} {logs[f'train_{m}']:.4f}" for m in metric_names)
    for part in sets:
        parts.append(f"{part} loss {logs[f'{part}_loss']:.4f}" +
                     "".join(f" {m} {logs[f'{part}_{m}']:.4f}" for m in metric_names))
    text = " | ".join(parts)
    if show_lr:
        text += f" | lr {logs['lr']:.3g}"
    return text + f" ({logs['seconds']:.1f}s)"
