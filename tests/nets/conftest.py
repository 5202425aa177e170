"""Shared fixtures for the nets tests."""
import pytest

import nets


@pytest.fixture(scope="session")
def digits():
    """((x_train, t_train), (x_test, t_test)) of scikit-learn's 8x8 digits."""
    return nets.datasets.load_digits()
