"""The processes' collector settings: startup objects frozen, young generation collected less often."""

from __future__ import annotations

import gc

from relaybox.gc_tuning import YOUNG_THRESHOLD, tune_for_batches


def test_tuning_freezes_what_is_alive_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        tune_for_batches()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
