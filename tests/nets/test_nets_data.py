"""DataLoader: batches, len, drop_last, seeded shuffling."""
import numpy as np
import pytest

import nets

X = np.arange(10 * 2).reshape(10, 2)
T = np.arange(10)


def test_batches_in_order_without_shuffle():
    loader = nets.DataLoader(X, T, batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [len(t) for _, t in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([t for _, t in batches]), T)
    np.testing.assert_array_equal(batches[1][0], X[4:8])


def test_drop_last():
    loader = nets.DataLoader(X, T, batch_size=4, shuffle=False, drop_last=True)
    assert len(loader) == 2
    assert [len(t) for _, t in loader] == [4, 4]
    assert len(nets.DataLoader(X, T, batch_size=5, drop_last=True)) == 2


def test_shuffle_covers_everything_pairs_rows_and_is_seeded():
    a = nets.DataLoader(X, T, batch_size=3, rng=42)
    b = nets.DataLoader(X, T, batch_size=3, rng=np.random.default_rng(42))
    epoch_a1, epoch_a2 = [t for _, t in a], [t for _, t in a]
    epoch_b1 = [t for _, t in b]
    for (xa, ta) in zip([x for x, _ in nets.DataLoader(X, T, batch_size=3, rng=42)], epoch_a1):
        np.testing.assert_array_equal(xa[:, 0] // 2, ta)  # rows stay paired with their labels
    flat1 = np.concatenate(epoch_a1)
    assert sorted(flat1) == list(T) and not np.array_equal(flat1, T)
    assert not np.array_equal(flat1, np.concatenate(epoch_a2))  # a new order every epoch
    np.testing.assert_array_equal(flat1, np.concatenate(epoch_b1))  # same seed, same order


def test_errors():
    with pytest.raises(ValueError, match="x has 10 rows but t has 9"):
        nets.DataLoader(X, T[:9])
    with pytest.raises(ValueError, match="batch_size must be positive"):
        nets.DataLoader(X, T, batch_size=0)
