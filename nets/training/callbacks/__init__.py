"""Callbacks for ``fit``, in Keras's convention: an object with hook methods. ::

    stop = nets.EarlyStopping(patience=3)                      # monitors val_loss (or test_loss)
    history = nets.fit(model, opt, (x, t), val=(xv, tv), epochs=30,
                       callbacks=[stop, nets.CosineAnnealing(), nets.GradientClipping(max_norm=5.0),
                                  nets.CSVLogger("runs/log.csv")])

Why Keras's hooks: ``fit`` is Keras's ``fit`` (model, data, epochs, batch
size, a returned ``History``) and a ``nets`` model is a plain module, not a
Lightning module with training-step methods of its own.  So a callback is an
object with ``on_train_begin / on_epoch_begin / on_batch_begin / on_batch_end
/ on_epoch_end / on_train_end``, each given the epoch or batch index (from 0)
and a ``logs`` dict, and stops the run with ``self.run.stop_training = True``.
One hook is borrowed from Lightning, ``on_before_optimizer_step``: the
gradients exist there and the update has not happened, which is where
gradient clipping belongs (Keras does it inside its optimizers instead).

The epoch's ``logs`` (and ``fit``'s ``History``) use these names:
``train_loss``, ``train_<metric>`` (``train_acc``, ``train_mse``...),
``val_loss`` and ``val_<metric>`` when ``fit`` has a ``val`` set,
``test_loss`` and ``test_<metric>`` for its ``test`` set, ``lr`` (the
optimizer's learning rate during the epoch) and ``seconds``.  ``monitor``
arguments take those names; ``"loss"`` means ``train_loss``, and with
``monitor=None`` a callback watches ``val_loss``, else ``test_loss``, else
``train_loss``.  A test set is for reporting: select on a ``val`` split.

``self.run`` (a ``FitRun``) holds the model, optimizer, epochs, batches per
epoch, the history so far and ``stop_training``.  A callback with state that
a resumed run needs (early stopping's best value and weights, a schedule's
base learning rate, a plateau's counters) returns it from ``state_dict()``
(JSON values and NumPy arrays) and takes it back in ``load_state_dict``;
``fit(checkpoint=...)`` saves it after every epoch and ``resume=True``
restores it, so 2 + 2 epochs with any of these callbacks give the weights of
4.  Resuming with other stateful callbacks than were saved is refused.
"""
from __future__ import annotations

from .base import Callback, CallbackList, EarlyStopping, FitRun, LambdaCallback
from .clipping import GradientClipping, clip_grad_norm, clip_grad_value
from .loggers import CSVLogger, JSONLogger
from .schedules import CosineAnnealing, LearningRateScheduler, LRSchedule, ReduceLROnPlateau, StepLR

__all__ = ["Callback", "FitRun", "CallbackList", "EarlyStopping", "LRSchedule", "StepLR", "CosineAnnealing",
           "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm", "clip_grad_value",
           "CSVLogger", "JSONLogger", "LambdaCallback"]
