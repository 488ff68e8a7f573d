"""The run's pause of the cycle collector: off inside, back on after, and the run's objects handed to
the oldest generation so turning it back on doesn't walk them all."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pddbatch.pipeline.options import no_cycle_collector


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    gc.collect()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_off_inside_on_after_and_kept_objects_are_old(collector_on: None) -> None:
    with no_cycle_collector():
        assert not gc.isenabled()
        kept = [[i] for i in range(5000)]
        probe = kept[-1]
        assert _in_generation(probe, 0)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert not _in_generation(probe, 0)
    assert _in_generation(probe, 2)
    del kept
    # a cycle made inside is still collected by a full collection
    with no_cycle_collector():
        a: list[object] = []
        a.append(a)
    del a
    assert gc.collect() >= 1


def test_a_hosts_frozen_objects_stay_frozen(collector_on: None) -> None:
    host = [[i] for i in range(100)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    with no_cycle_collector():
        mine = [[i] for i in range(100)]
    assert gc.get_freeze_count() == frozen       # not unfrozen behind the host's back
    assert _in_generation(mine[0], 0)            # (so the run's objects stay young here)
    assert host


def test_left_off_when_the_caller_had_it_off(collector_on: None) -> None:
    gc.disable()
    with no_cycle_collector():
        pass
    assert not gc.isenabled()
