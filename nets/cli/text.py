"""``python -m nets text``: train a character-level language model on Debian's fortunes for a
fixed time and report its held-out loss per character next to unigram and bigram baselines.

    python -m nets text --model lstm --minutes 3 --out runs/text-lstm
    python -m nets text --model transformer --minutes 3 --out runs/text-transformer
    python -m nets text --corpus fortunes-zh --model lstm --minutes 2      # the Tang and Song poems

The corpus (``apt-get install fortunes`` or ``fortunes-zh``; ``make text-model`` installs it when
root) is split by entry (5 % validation, 5 % test, ``--seed``); the vocabulary is the training
text's characters.  Training: Adam with the gradients' norm clipped to 1, ``--batch-size``
streams of ``--seq-len`` characters per step (``nets.SequenceLoader``; the LSTM's state is
carried from step to step, detached: truncated BPTT), until ``--minutes`` have passed (the
time of the periodic validation on ``--val-chars`` characters not counted).  Then the test
text's loss (``nets.models.text_loss``) in nats and bits per character, the baselines', and
a sample.  Written into ``--out``: ``model.npz`` (``nets.load``), ``vocab.json``, ``log.csv``
(step, seconds, train and validation loss), ``result.json``, ``sample.txt``.
"""
from __future__ import annotations

import csv
import json
import math
import time

import numpy as np

from ..io import text as _text
from ..layers import init as _init
from ..models import text as _lm
from ..training import SequenceLoader, optim as _optim
from ..training.bptt import CarriedStep, carries_state
from ..training.callbacks import clip_grad_norm
from .args import UsageError, integer, output_folder, path_text, real, seed as _seed

__all__ = ["add_text_parser", "cmd_text", "TEXT_FILES", "build_model"]

TEXT_FILES = ("model.npz", "vocab.json", "log.csv", "result.json", "sample.txt")
MODELS = ("lstm", "transformer")

_size = integer(1, 4096, "an integer from 1 to 4096")
_layers = integer(1, 16, "an integer from 1 to 16")
_chars = integer(0, 10 ** 9, "an integer >= 0")
_positive = real(lambda v: v > 0, "a finite number > 0")
_minutes = real(lambda v: 0 < v <= 24 * 60, "a number of minutes in (0, 1440]")


def add_text_parser(sub):
    """Add the ``text`` command to the subparsers ``sub``."""
    p = sub.add_parser("text", help="train a character-level language model (LSTM or a small causal transformer) "
                                    "on Debian's fortunes; report loss per character against n-gram baselines")
    p.add_argument("--model", choices=MODELS, default="lstm")
    p.add_argument("--corpus", choices=tuple(_text.CORPORA), default="fortunes",
                   help="fortunes: Debian's English fortunes (apt-get install fortunes); fortunes-zh: its Tang "
                        "and Song poems (apt-get install fortunes-zh)")
    p.add_argument("--fortunes-dir", type=path_text, default=None,
                   help=f"folder of the fortune files (default $NETS_FORTUNES_DIR or {_text.FORTUNES_DIR})")
    p.add_argument("--minutes", type=_minutes, default=3.0, help="training time (default 3)")
    p.add_argument("--max-steps", type=integer(1, 10 ** 9, "a positive integer"), default=None,
                   help="stop after this many steps, if earlier")
    p.add_argument("--batch-size", type=_size, default=32, help="parallel streams per step (default 32)")
    p.add_argument("--seq-len", type=_size, default=64, help="characters per stream per step (default 64; the "
                                                             "transformer's context)")
    p.add_argument("--lr", type=_positive, default=3e-3, help="Adam's learning rate (default 0.003)")
    p.add_argument("--embedding", type=_size, default=64, help="LSTM: embedding size (default 64)")
    p.add_argument("--hidden", type=_size, default=256, help="LSTM: hidden size (default 256); transformer: "
                                                             "d_model (default 128)")
    p.add_argument("--layers", type=_layers, default=None, help="LSTM layers (default 1), transformer blocks (2)")
    p.add_argument("--heads", type=_size, default=4, help="transformer: attention heads (default 4)")
    p.add_argument("--max-chars", type=_chars, default=0, help="train on the first N characters only (0: all)")
    p.add_argument("--val-chars", type=_chars, default=20000,
                   help="validation characters scored every --eval-every steps (default 20000)")
    p.add_argument("--eval-every", type=integer(1, 10 ** 9, "a positive integer"), default=200)
    p.add_argument("--sample", type=_chars, default=400, help="characters to sample at the end (default 400)")
    p.add_argument("--temperature", type=_positive, default=0.8)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", type=path_text, default=None, help="output folder (default runs/text-<model>)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def build_model(kind, vocab_size, args, rng):
    """The ``--model`` of the command's arguments."""
    if kind == "lstm":
        return _lm.CharLSTM(vocab_size, args.embedding, args.hidden, args.layers or 1, rng=rng)
    d_model = args.hidden if args.hidden != 256 else 128  # (--hidden's default is the LSTM's)
    if d_model % args.heads:
        raise UsageError(f"--hidden {d_model} (the transformer's d_model) must be a multiple of --heads {args.heads}")
    return _lm.CharTransformer(vocab_size, context=args.seq_len, d_model=d_model, nhead=args.heads,
                               num_layers=args.layers or 2, dim_feedforward=4 * d_model, rng=rng)


def _data(args):
    t0 = time.perf_counter()
    entries = _text.load_fortunes(args.corpus, args.fortunes_dir)
    train, val, test = _text.split_entries(entries, seed=args.seed)
    if args.max_chars:
        train = train[:args.max_chars]
    vocab = _text.CharVocab.from_text(train)
    ids = {name: vocab.encode(part) for name, part in (("train", train), ("val", val), ("test", test))}
    return vocab, ids, time.perf_counter() - t0


def _train(model, ids, args, say):
    """Steps until the time is up: ``(log rows, steps, training seconds)``."""
    loader = SequenceLoader(ids["train"], args.batch_size, args.seq_len)
    opt = _optim.Adam(model, lr=args.lr)
    step = CarriedStep(model) if carries_state(model) else None
    val = ids["val"][:max(args.val_chars, 2)]
    rows, steps, spent, running, budget = [], 0, 0.0, [], args.minutes * 60.0
    while spent < budget and (args.max_steps is None or steps < args.max_steps):
        if step is not None:
            step.reset()  # a new pass over the streams starts from zeros
        for xb, tb in loader:
            t0 = time.perf_counter()
            opt.zero_grad()
            if step is not None:
                loss, _ = step(xb, tb)
            else:
                loss = model.loss(xb, tb)
                loss.backward()
            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(f"text: the training loss became {value} at step {steps + 1}; lower --lr")
            clip_grad_norm(model, 1.0)
            opt.step()
            spent += time.perf_counter() - t0
            steps += 1
            running.append(value)
            last = spent >= budget or steps == args.max_steps
            if steps % args.eval_every == 0 or last:
                row = {"step": steps, "seconds": round(spent, 2), "train_loss": float(np.mean(running)),
                       "val_loss": _lm.text_loss(model, val) if len(val) > 1 else math.nan}
                rows.append(row)
                running = []
                say(f"step {steps} ({spent:.0f}s): train {row['train_loss']:.3f}, val {row['val_loss']:.3f} "
                    f"nats/char")
            if last:
                return rows, steps, spent
    return rows, steps, spent


def _write(out, model, vocab, rows, result, sample):
    model.save(out / "model.npz")
    (out / "vocab.json").write_text(vocab.to_json(), encoding="utf-8")
    with open(out / "log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "seconds", "train_loss", "val_loss"])
        writer.writeheader()
        writer.writerows(rows)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "sample.txt").write_text(sample, encoding="utf-8")


def cmd_text(args) -> int:
    """Train, score, sample and write; prints the figures (nats and bits per character)."""
    if args.out is None:
        args.out = f"runs/text-{args.model}"
    out = output_folder(args.out, files=TEXT_FILES)
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    vocab, ids, load_s = _data(args)
    if len(ids["train"]) <= args.batch_size * args.seq_len:
        raise UsageError(f"--batch-size {args.batch_size} x --seq-len {args.seq_len} needs more than "
                         f"{args.batch_size * args.seq_len} training characters, the corpus gives {len(ids['train'])}")
    rng = _init.rng_of(args.seed)
    model = build_model(args.model, len(vocab), args, rng)
    n_params = sum(p.size for p in model.parameters())
    say(f"{args.corpus}: {len(ids['train']):,} training, {len(ids['val']):,} validation, {len(ids['test']):,} test "
        f"characters, {len(vocab)} in the vocabulary; {type(model).__name__} with {n_params:,} parameters")
    rows, steps, spent = _train(model, ids, args, say)
    t0 = time.perf_counter()
    nats = _lm.text_loss(model, ids["test"])
    base = _lm.ngram_baselines(ids["train"], ids["val"], ids["test"], len(vocab))
    eval_s = time.perf_counter() - t0
    prompt = vocab.encode(_text.SEPARATOR)
    sample = vocab.decode(_lm.generate(model, prompt, args.sample, args.temperature, rng=args.seed))
    bits = _lm.BITS_PER_NAT
    result = {"corpus": args.corpus, "model": args.model, "config": model.config(), "parameters": int(n_params),
              "steps": steps, "train_seconds": round(spent, 1), "eval_seconds": round(eval_s, 1),
              "chars_seen": steps * args.batch_size * args.seq_len, "vocab": len(vocab),
              "test_chars": int(len(ids["test"])), "test_nats": nats, "test_bits": nats * bits,
              "unigram_bits": base["unigram"] * bits, "bigram_bits": base["bigram"] * bits,
              "bigram_alpha": base["bigram_alpha"]}
    _write(out, model, vocab, rows, result, sample)
    print(f"test loss per character: {args.model} {nats * bits:.3f} bits ({nats:.3f} nats), bigram "
          f"{result['bigram_bits']:.3f}, unigram {result['unigram_bits']:.3f} bits ({steps} steps in {spent:.0f} s)")
    say("sample:\n" + sample)
    return 0
