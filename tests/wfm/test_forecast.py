"""The forecaster recovers weekly and daily seasonality and trend; MAPE by hand."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.forecast import CountSeries, fit, forecast, holdout_accuracy, mape
from omnidesk.wfm.history import read_history_csv

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAY_LEVEL = (500.0, 480.0, 470.0, 460.0, 420.0, 200.0, 120.0)  # Monday … Sunday


def _shape(slot: int, slots: int) -> float:
    """An intraday profile: nothing at night, a morning and an afternoon peak."""
    hour = slot * 24 / slots
    if hour < 7 or hour >= 21:
        return 0.0
    return 1.0 + math.sin(math.pi * (hour - 7) / 7) ** 2


def _synthetic(weeks: int, interval_s: int = 1800, trend: float = 2.0,
               noise: random.Random | None = None) -> CountSeries:
    slots = 86400 // interval_s
    shape = [_shape(s, slots) for s in range(slots)]
    total = sum(shape)
    counts = []
    for day in range(7 * weeks):
        volume = DAY_LEVEL[day % 7] + trend * day
        for slot in range(slots):
            mean = volume * shape[slot] / total
            counts.append(float(_poisson(noise, mean)) if noise else mean)
    return CountSeries(MONDAY, interval_s, tuple(counts))


def _poisson(rng: random.Random, mean: float) -> int:
    count, t = 0, rng.expovariate(1.0)
    while t < mean:
        count += 1
        t += rng.expovariate(1.0)
    return count


def test_recovers_weekday_levels_trend_and_intraday_profile() -> None:
    model = fit(_synthetic(weeks=4))
    assert model.trend_per_day == pytest.approx(2.0, abs=1e-9)
    for weekday, level in enumerate(DAY_LEVEL):
        assert model.level[weekday] == pytest.approx(level, abs=1e-6)
    slots = 48
    total = sum(_shape(s, slots) for s in range(slots))
    for slot in (0, 16, 20, 30, 41):
        assert model.profile[0][slot] == pytest.approx(_shape(slot, slots) / total, abs=1e-12)


def test_noise_free_forecast_continues_the_series_exactly() -> None:
    history = _synthetic(weeks=5)
    truth = _synthetic(weeks=6)
    result = forecast(history.head(4 * 7 * 48), periods=7 * 48)
    assert result.series.start == MONDAY + timedelta(weeks=4)
    expected = truth.counts[4 * 7 * 48: 5 * 7 * 48]
    assert result.series.counts == pytest.approx(expected, abs=1e-6)
    assert result.accuracy is not None and result.accuracy.mape_pct == pytest.approx(0, abs=1e-6)
    assert result.accuracy.zero_actuals == 7 * 20  # 10 night hours a day, half-hourly


def test_poisson_noise_gives_a_small_held_out_mape() -> None:
    history = _synthetic(weeks=6, interval_s=3600, noise=random.Random(4))
    accuracy = holdout_accuracy(history)
    assert accuracy is not None and accuracy.mape_pct is not None
    # Intervals hold ~20–60 contacts: Poisson noise alone is ~15 % MAPE.
    assert 5 < accuracy.mape_pct < 25


def test_mape_by_hand() -> None:
    # |10−12|/10 = 0.2, |20−15|/20 = 0.25, actual 0 left out, |40−40|/40 = 0 → 15 %
    accuracy = mape([10, 20, 0, 40], [12, 15, 3, 40])
    assert accuracy.mape_pct == pytest.approx(15.0)
    assert (accuracy.intervals, accuracy.zero_actuals) == (4, 1)
    assert mape([0, 0], [1, 1]).mape_pct is None


def test_one_week_of_history_has_no_trend_and_no_mape() -> None:
    result = forecast(_synthetic(weeks=1), periods=48)
    assert result.model.trend_per_day == 0
    assert result.accuracy is None


def test_series_must_be_regular_and_aligned() -> None:
    with pytest.raises(WfmError, match="15, 30 or 60"):
        CountSeries(MONDAY, 600, (1.0,))
    with pytest.raises(WfmError, match="boundary"):
        CountSeries(MONDAY + timedelta(minutes=7), 900, (1.0,))


def test_history_csv(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("interval_start,count\n2026-01-05T08:00:00Z,4\n2026-01-05T09:00:00Z,6\n")
    series = read_history_csv(path, 1800)
    assert series.counts == (4.0, 0.0, 6.0)
    path.write_text("interval_start,count\n2026-01-05T08:00:00Z,many\n")
    with pytest.raises(WfmError, match=r"history.csv:2: expected"):
        read_history_csv(path, 1800)
