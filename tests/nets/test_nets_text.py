"""Text models (issue 24): the fortune-file reader, the character vocabulary, SequenceLoader's
layout, truncated BPTT in fit against a hand-unrolled reference, text_loss, generate, the
n-gram baselines, and ``python -m nets text`` on a small fortune folder made here."""
import json
import math

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.cli.program import main
from nets.io import text as T
from nets.models import text as lm
from nets.training.bptt import CarriedStep, detach_state

RNG = np.random.default_rng(0)
ENTRIES = ["A day for firm decisions!!!!!  Or is it?\n", "\x1b[32m《静夜思》\x1b[m\n床前明月光\n",
           "_\bu_\bn_\bd_\be_\br_\bl_\bi_\bn_\be_\bd words\r\n", "Two\nlines\n"]


def _folder(tmp_path, files):
    """A fortune folder: each file with its entries and a .dat index next to it."""
    for name, entries in files.items():
        (tmp_path / name).write_bytes(entries if isinstance(entries, bytes) else
                                      "%\n".join(entries).encode("utf-8"))
        (tmp_path / f"{name}.dat").write_bytes(b"\0" * 24)
    return tmp_path


# --- reading the corpus -----------------------------------------------------------------------

def test_a_fortune_file_is_read_into_clean_entries(tmp_path):
    _folder(tmp_path, {"mixed": ENTRIES + ["\n", ""]})
    got = T.read_fortune_file(tmp_path / "mixed")
    assert got == ["A day for firm decisions!!!!!  Or is it?\n", "《静夜思》\n床前明月光\n", "underlined words\n",
                   "Two\nlines\n"]


def test_the_corpora_pick_their_files(tmp_path, monkeypatch):
    _folder(tmp_path, {"fortunes": ["one\n"], "zippy": ["two\n"], "tang300": ["诗\n"], "song100": ["词\n"],
                       "chinese": ["话\n"]})
    (tmp_path / "notes.txt").write_text("no .dat: not a fortune file\n")
    assert [p.name for p in T.fortune_files("fortunes", tmp_path)] == ["fortunes", "zippy"]
    assert [p.name for p in T.fortune_files("fortunes-zh", tmp_path)] == ["tang300", "song100"]
    monkeypatch.setenv("NETS_FORTUNES_DIR", str(tmp_path))
    assert T.load_fortunes() == ["one\n", "two\n"] and T.load_fortunes("fortunes-zh") == ["诗\n", "词\n"]


READ_ERRORS = [
    ({"bin": b"abc\x00def"}, "bin", {}, r"a binary file \(a NUL byte at offset 3\)"),
    ({"latin": "café\n".encode("latin-1")}, "latin", {}, r"not UTF-8 text \(byte 0xe9 at offset 3\)"),
    ({"big": b"x" * 100}, "big", {"max_bytes": 50}, "100 bytes, more than max_bytes=50"),
    ({}, "absent", {}, "no such file"),
]


@pytest.mark.parametrize("files,name,kwargs,message", READ_ERRORS)
def test_a_bad_file_is_a_dataset_error_naming_it(tmp_path, files, name, kwargs, message):
    _folder(tmp_path, files)
    with pytest.raises(nets.DatasetError, match=message) as err:
        T.read_fortune_file(tmp_path / name, **kwargs)
    assert str(tmp_path / name) in str(err.value)


def test_a_missing_corpus_says_what_to_install(tmp_path):
    with pytest.raises(nets.DatasetError, match=r"no folder .*'apt-get install fortunes-zh'"):
        T.fortune_files("fortunes-zh", tmp_path / "none")
    with pytest.raises(nets.DatasetError, match=r"no file of the 'fortunes' corpus; install it with 'apt-get install"):
        T.fortune_files("fortunes", tmp_path)
    with pytest.raises(ValueError, match="fortune_files: corpus must be one of 'fortunes', 'fortunes-zh'"):
        T.fortune_files("poems", tmp_path)


def test_the_installed_corpora_read_when_present():
    if T.find_fortunes() is None:
        pytest.skip("Debian's fortunes are not installed (make fortunes)")
    entries = T.load_fortunes()
    text = "".join(entries)
    assert len(entries) > 10000 and "\x1b" not in text and "\b" not in text
    poems = T.load_fortunes("fortunes-zh")
    assert len(poems) > 400 and "床前明月光" in "".join(poems)  # tang300 holds a few more than 300


def test_split_entries_deals_whole_entries_reproducibly():
    entries = [f"entry {i}\n" for i in range(100)]
    parts = T.split_entries(entries, val=0.1, test=0.2, seed=3)
    assert parts == T.split_entries(entries, val=0.1, test=0.2, seed=3) != T.split_entries(entries, 0.1, 0.2, seed=4)
    found = [p.split(T.SEPARATOR)[:-1] for p in parts]
    assert [len(f) for f in found] == [70, 10, 20]
    assert sorted(sum(found, [])) == sorted(e.rstrip("\n") + "\n" for e in entries)
    for bad, kind in ((["a", "b"], ValueError), ("abc", TypeError), ([1, 2, 3], TypeError)):
        with pytest.raises(kind, match="split_entries"):
            T.split_entries(bad)
    with pytest.raises(ValueError, match="split_entries: val must be"):
        T.split_entries(entries, val=1.0)


def test_char_vocab_round_trips_and_marks_unknown_characters():
    vocab = T.CharVocab.from_text("hello world\n")
    ids = vocab.encode("hold!")
    assert ids.dtype == np.int32 and vocab.decode(ids) == "hold\ufffd" and ids[-1] == vocab.unknown
    assert len(vocab) == 10 and vocab.decode(vocab.encode("world")) == "world"  # 9 characters and the unknown
    again = T.CharVocab.from_json(vocab.to_json())
    assert again.chars == vocab.chars
    for make, kind in ((lambda: vocab.decode(np.array([10])), ValueError), (lambda: vocab.decode([0.5]), TypeError),
                       (lambda: vocab.encode(3), TypeError), (lambda: T.CharVocab(["ab"]), TypeError),
                       (lambda: T.CharVocab(["a", "a"]), ValueError), (lambda: T.CharVocab.from_text(""), TypeError),
                       (lambda: T.CharVocab.from_json("{}"), ValueError)):
        with pytest.raises(kind, match="CharVocab"):
            make()


# --- SequenceLoader -----------------------------------------------------------------------------

@pytest.mark.parametrize("n,batch,seq", [(101, 2, 7), (64, 3, 5), (2 * 4 + 1, 2, 4), (1000, 7, 13)])
def test_sequence_loader_puts_each_stream_in_order(n, batch, seq):
    tokens = np.arange(n)
    loader = nets.SequenceLoader(tokens, batch_size=batch, seq_len=seq)
    batches = list(loader)
    stride = (n - 1) // batch
    assert all(x.shape == (batch, seq) and t.shape == (batch, seq) for x, t in batches)
    for b in range(batch):
        row = np.concatenate([x[b] for x, _ in batches])
        np.testing.assert_array_equal(row, np.arange(b * stride, b * stride + len(row)))   # contiguous
        np.testing.assert_array_equal(np.concatenate([t[b] for _, t in batches]), row + 1)  # the next token
    assert len(loader) == stride // seq and loader.dropped == n - batch * len(loader) * seq
    assert batches[0][0][0, 0] == 0 and list(loader)[0][0].tolist() == batches[0][0].tolist()  # never shuffled


def test_sequence_loader_refuses_what_would_break_the_streams():
    with pytest.raises(ValueError, match="SequenceLoader: 10 tokens cannot fill one chunk .* need at least 13"):
        nets.SequenceLoader(np.arange(10), batch_size=3, seq_len=4)
    with pytest.raises(TypeError, match="SequenceLoader: tokens must be a 1-d array of integer"):
        nets.SequenceLoader(np.ones((10, 2), int), 2, 2)
    with pytest.raises(ValueError, match=r"SequenceLoader: tokens must be >= 0 .* got -1 at 4"):
        nets.SequenceLoader(np.r_[0, 1, 2, 3, -1], 1, 2)
    loader = nets.SequenceLoader(np.arange(20), 2, 3)
    with pytest.raises(ValueError, match="shuffle must stay False"):
        loader.shuffle = True


# --- truncated BPTT -----------------------------------------------------------------------------

def _lstm(seed=0):
    return nets.models.CharLSTM(6, 3, 4, rng=seed, dtype=np.float64)


def _reference_training(model, loader, lr, epochs, carry=True):
    """Hand-unrolled truncated BPTT: each chunk starts from the previous chunk's final state
    *values* (a constant array), plain SGD; returns the mean loss per epoch."""
    losses = []
    for _ in range(epochs):
        h = c = None
        total = 0.0
        for x, t in loader:
            state = None if h is None or not carry else (ag.Tensor(h), ag.Tensor(c))
            emb = model.embedding.weight[x]
            out, (hn, cn) = model.lstm(emb, state)
            loss = ag.softmax_cross_entropy(model.head(out), t)
            for p in model.parameters():
                p.grad = None
            loss.backward()
            for p in model.parameters():
                p.data = p.data - lr * p.grad
            h, c = hn.data.copy(), cn.data.copy()
            total += float(loss.data) * len(x)
        losses.append(total / loader.num_samples)
    return losses


def test_fit_with_a_sequence_loader_is_hand_unrolled_truncated_bptt():
    tokens = RNG.integers(0, 6, 200)
    loader = nets.SequenceLoader(tokens, batch_size=3, seq_len=5)
    ours, ref = _lstm(), _lstm()
    history = nets.fit(ours, nets.optim.SGD(ours, lr=0.5), loader, epochs=2, verbose=False, metrics=[])
    expected = _reference_training(ref, loader, 0.5, epochs=2)
    np.testing.assert_allclose(history.train_loss, expected, rtol=1e-12)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12, err_msg=name)
    # the state is really carried: training each chunk from zeros gives other weights
    fresh = _lstm()
    _reference_training(fresh, loader, 0.5, epochs=2, carry=False)
    assert not np.allclose(fresh.head.weight.data, ours.head.weight.data)


def test_the_carried_state_is_cut_from_the_graph():
    """A chunk's gradient stops at its start: it equals the gradient with its initial state given as
    a constant, and differs from backpropagating through the chunk before."""
    model, (x1, x2), t2 = _lstm(), RNG.integers(0, 6, (2, 2, 4)), RNG.integers(0, 6, (2, 4))
    step = CarriedStep(model)
    step(x1, RNG.integers(0, 6, (2, 4)))
    assert all(not s.requires_grad and s.node is None for s in step.state)
    for p in model.parameters():
        p.grad = None
    step(x2, t2)
    truncated = [p.grad.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    _, state = model(x1, return_state=True)
    y = model(x2, state=state, return_state=True)[0]
    ag.softmax_cross_entropy(y, t2).backward()  # through both chunks
    assert not np.allclose(truncated[0], model.parameters()[0].grad)
    assert detach_state(None) is None and isinstance(detach_state([np.ones(2)])[0], np.ndarray)


def test_validation_through_a_sequence_loader_carries_the_state():
    tokens, val_tokens = RNG.integers(0, 6, 120), RNG.integers(0, 6, 80)
    model = _lstm()
    val = nets.SequenceLoader(val_tokens, batch_size=2, seq_len=6)
    history = nets.fit(model, nets.optim.SGD(model, lr=0.1), nets.SequenceLoader(tokens, 2, 6), val=val, epochs=1,
                       verbose=False)
    state, total = None, 0.0
    model.eval()
    for x, t in val:
        y, state = model(x, state=state, return_state=True)
        total += float(ag.softmax_cross_entropy(y, t).data) * len(x)
    assert history.val_loss[0] == pytest.approx(total / val.num_samples, rel=1e-12)
    assert "val_acc" in history.logs


def test_truncated_bptt_refuses_compile_and_trains_a_stateless_model_per_chunk():
    loader = nets.SequenceLoader(RNG.integers(0, 6, 100), 2, 4)
    model = _lstm()
    with pytest.raises(ValueError, match="compile=True cannot carry the recurrent state"):
        nets.fit(model, nets.optim.SGD(model), loader, epochs=1, compile=True, verbose=False)
    tf = nets.models.CharTransformer(6, context=4, d_model=4, nhead=2, num_layers=1, dim_feedforward=8, rng=0)
    history = nets.fit(tf, nets.optim.Adam(tf, lr=0.01), loader, epochs=2, verbose=False)
    assert len(history) == 2 and history.train_loss[1] < history.train_loss[0]


# --- models, loss, sampling, baselines -----------------------------------------------------------

def _transformer(context=5):
    return nets.models.CharTransformer(6, context=context, d_model=4, nhead=2, num_layers=2, dim_feedforward=8,
                                       rng=1, dtype=np.float64)


def _nll(model, x, t):
    logp = ag.log_softmax(model(x[None]), axis=-1).data[0]
    return -logp[np.arange(len(t)), t]


@pytest.mark.parametrize("seq_len,batch_size", [(100, 1), (3, 1), (4, 3), (7, 5)])
def test_text_loss_of_an_lstm_carries_the_state_through_each_piece(seq_len, batch_size):
    model, ids = _lstm(), RNG.integers(0, 6, 23)
    piece = 22 // batch_size
    expected = [_nll(model, ids[k * piece:(k + 1) * piece], ids[k * piece + 1:(k + 1) * piece + 1])
                for k in range(batch_size)]
    rest = 22 - piece * batch_size
    if rest:
        expected.append(_nll(model, ids[22 - rest:22], ids[23 - rest:]))
    got = lm.text_loss(model, ids, seq_len=seq_len, batch_size=batch_size)
    assert got == pytest.approx(np.concatenate(expected).mean(), rel=1e-12)


@pytest.mark.parametrize("n", [4, 6, 13, 20])
def test_text_loss_of_a_transformer_predicts_from_half_a_context_at_least(n):
    """Windows of the context start every context // 2 (the last one ends at the end); a position is
    scored by the first window that holds it, so from at least half a context (but in the first)."""
    model, ids = _transformer(context=6), RNG.integers(0, 6, n)
    c = min(6, n - 1)
    starts = list(range(0, n - 1 - c + 1, 3))
    starts += [n - 1 - c] if starts[-1] != n - 1 - c else []
    expected = []
    for i in range(n - 1):
        start = next(s for s in starts if s <= i < s + c)
        assert start == 0 or i - start >= 3
        expected.append(_nll(model, ids[start:start + c], ids[start + 1:start + c + 1])[i - start])
    assert lm.text_loss(model, ids, batch_size=2) == pytest.approx(np.mean(expected), rel=1e-12)


def test_generate_carries_the_state_as_a_full_recomputation_would():
    model, prompt = _lstm(), np.array([1, 2, 3])
    got = lm.generate(model, prompt, 8, temperature=0.7, rng=5)
    rng, ids = np.random.default_rng(5), list(prompt)
    for _ in range(8):  # the reference: the whole prefix again at every step
        z = model(np.array(ids)[None]).data[0, -1] / 0.7
        p = np.exp(z - z.max())
        ids.append(int(rng.choice(6, p=p / p.sum())))
    assert got.tolist() == ids[3:]
    tf = _transformer()
    assert len(lm.generate(tf, prompt, 9, rng=0)) == 9 and lm.generate(tf, prompt, 0).size == 0


def test_generate_and_text_loss_refuse_bad_arguments():
    model = _lstm()
    for call, message in ((lambda: lm.generate(model, np.array([], int), 3), "prompt must be"),
                          (lambda: lm.generate(model, np.array([1]), -1), "length must be"),
                          (lambda: lm.generate(model, np.array([1]), 2, temperature=0), "temperature must be"),
                          (lambda: lm.text_loss(model, np.array([1])), "ids must be"),
                          (lambda: lm.text_loss(model, np.ones(5)), "ids must be"),
                          (lambda: lm.text_loss(model, np.arange(5), seq_len=0), "seq_len must be")):
        with pytest.raises((ValueError, TypeError), match=message):
            call()
    with pytest.raises(ValueError, match=r"CharTransformer: ids of shape \(1, 6\); need .* context=5"):
        _transformer()(np.zeros((1, 6), int))


def test_the_baselines_are_the_smoothed_counts():
    train, test = np.array([0, 1, 0, 1, 0, 2]), np.array([0, 1, 2, 0])
    uni = (np.bincount(train, minlength=4) + 1) / (6 + 4)
    assert lm.unigram_loss(train, test, 4) == pytest.approx(-np.log(uni[test]).mean())
    # p(b | a) = (count(a, b) + alpha * uni(b)) / (count(a) + alpha), here with alpha = 2
    pairs = {(0, 1): 2, (1, 0): 2, (0, 2): 1}
    firsts = {0: 3, 1: 2, 2: 0}
    expected = [-np.log((pairs.get((a, b), 0) + 2 * uni[b]) / (firsts[a] + 2)) for a, b in zip(test, test[1:])]
    assert lm.bigram_loss(train, test, 4, alpha=2.0) == pytest.approx(np.mean(expected))
    structured = np.tile([0, 1, 2, 3], 50)
    base = lm.ngram_baselines(structured, structured[:40], structured[:80], 4)
    assert base["bigram"] < 0.1 < math.log(4) - 0.01 < base["unigram"] and 0.01 <= base["bigram_alpha"] <= 1000


@pytest.mark.parametrize("make", [lambda: _lstm(), lambda: _transformer()], ids=["CharLSTM", "CharTransformer"])
def test_the_text_models_pass_gradient_check(make):
    ids = RNG.integers(0, 6, (2, 5))
    report = nets.gradient_check(make(), ids, RNG.integers(0, 6, (2, 5)), verbose=False)
    assert report.ok, str(report)


# --- the command line ---------------------------------------------------------------------------

def test_the_text_command_trains_scores_and_writes(tmp_path, capsys):
    words = ["the cat sat on the mat\n", "a dog ran to the log\n", "to be or not to be\n", "all is well\n"]
    (tmp_path / "fortunes").mkdir()
    folder = _folder(tmp_path / "fortunes", {"a": words * 30, "b": words[::-1] * 30})
    out = tmp_path / "run"
    status = main(["text", "--fortunes-dir", str(folder), "--model", "lstm", "--max-steps", "4", "--eval-every", "2",
                   "--hidden", "8", "--embedding", "4", "--batch-size", "4", "--seq-len", "8", "--sample", "30",
                   "--val-chars", "200", "--out", str(out), "--quiet"])
    assert status == 0
    result = json.loads((out / "result.json").read_text())
    assert result["steps"] == 4 and result["chars_seen"] == 4 * 4 * 8 and result["test_bits"] > 0
    assert result["bigram_bits"] < result["unigram_bits"]
    model = nets.load(out / "model.npz")
    vocab = T.CharVocab.from_json((out / "vocab.json").read_text())
    _, _, test = T.split_entries(T.load_fortunes(path=folder), seed=0)
    assert lm.text_loss(model, vocab.encode(test)) == pytest.approx(result["test_nats"], rel=1e-6)
    assert (out / "log.csv").read_text().splitlines()[0] == "step,seconds,train_loss,val_loss"
    assert len((out / "log.csv").read_text().splitlines()) == 3 and len((out / "sample.txt").read_text()) == 30
    assert f"test loss per character: lstm {result['test_bits']:.3f} bits" in capsys.readouterr().out


def test_the_text_command_says_what_is_missing(tmp_path, capsys):
    assert main(["text", "--fortunes-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nets: error: fortune files: no folder") and "apt-get install fortunes" in err
    assert main(["text", "--minutes", "0"]) == 2 and "--minutes" in capsys.readouterr().err
    _folder(tmp_path, {"a": ["some words\n"] * 200})
    assert main(["text", "--model", "transformer", "--hidden", "6", "--heads", "4", "--fortunes-dir",
                 str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "--hidden 6 (the transformer's d_model) must be a multiple of --heads 4" in capsys.readouterr().err
