"""Shared pytest configuration.

``--device`` selects where device-parametrized tests run:
``auto`` (default) runs the CPU case always and the CUDA case when CUDA is present,
``cpu`` runs only the CPU case, ``cuda`` runs only the CUDA case and fails if there is no GPU.
Tests take the ``device`` fixture to be parametrized this way.
"""

from __future__ import annotations

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="where device-parametrized tests run (default: cpu, plus cuda when available)",
    )


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> torch.device:
    wanted = request.config.getoption("--device")
    if request.param == "cuda":
        if not torch.cuda.is_available():
            if wanted == "cuda":
                pytest.fail("--device cuda was given but torch.cuda.is_available() is False")
            pytest.skip("CUDA is not available on this machine")
    elif wanted == "cuda":
        pytest.skip("--device cuda runs only the CUDA case")
    return torch.device(request.param)
