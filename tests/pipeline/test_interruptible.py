"""Ctrl-C and SIGTERM inside a run, with real signals: they stop it at once, wait for a held step, or are ignored
once the run is winding up."""

from __future__ import annotations

import os
import signal

import pytest

from pddbatch.pipeline.guards import Interruptible, is_interrupt


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_where_it_is(sig: signal.Signals) -> None:
    reached = False
    with pytest.raises(BaseException) as stopped, Interruptible():
        os.kill(os.getpid(), sig)
        for _ in range(1000):       # the handler runs between two bytecodes, here
            pass
        reached = True
    assert is_interrupt(stopped.value) and not reached


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_held_step_stops_the_run_right_after_it(sig: signal.Signals) -> None:
    steps: list[str] = []
    with pytest.raises(BaseException) as stopped, Interruptible() as signals:
        with signals.held():
            os.kill(os.getpid(), sig)
            for _ in range(1000):
                pass
            steps.append("the run's row written and its id kept")
        steps.append("after the held step")
    assert is_interrupt(stopped.value) and str(stopped.value) == sig.name
    assert steps == ["the run's row written and its id kept"]


def test_a_held_step_that_fails_keeps_its_own_error_and_a_calm_run_ignores_signals() -> None:
    with pytest.raises(ValueError), Interruptible() as signals, signals.held():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        raise ValueError("the ledger refused")
    with Interruptible() as signals:
        signals.calm()
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL      # the run's handlers are gone after it
