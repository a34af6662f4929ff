"""Shared pytest fixtures for the package's unit tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run each test module on one torch thread.

    The unit tests use tiny models and batches, which run fastest on one thread; two
    spin-waiting threads on a busy 2-core machine were measured 20x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
