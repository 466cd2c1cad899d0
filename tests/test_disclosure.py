"""Disclosure control across requests: fixed periods, the published-figures ledger, differencing."""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.store import Store
from planning.impact import release_summary, summary_figures
from planning.impact_disclosure import check_period, protect_release, relations
from planning.impact_ledger import published_cells, published_figures, published_releases
from tests.test_briefing import report_frame

T = 10
MONTHS = [str(m) for m in pd.period_range("2024-10", "2025-06", freq="M")]
# (category, street or None) -> reports per month, October 2024 to June 2025.
PLAN = {
    ("needles", "Anlaby Road"): [20, 22, 19, 21, 25, 18, 20, 23, 22],
    ("needles", "Park Street"): [8, 9, 11, 12, 4, 10, 13, 2, 11],
    ("needles", None): [5, 6, 4, 7, 5, 6, 4, 5, 6],
    ("propositioning", "Hessle Road"): [11, 12, 10, 13, 11, 12, 12, 1, 12],
    ("propositioning", None): [6, 7, 5, 6, 8, 7, 6, 5, 7],
    # The secret of the issue: January to May 18, January to April 17, so May is 1.
    ("welfare_concern", None): [3, 3, 2, 4, 5, 3, 5, 1, 2],
}


def _reports() -> pd.DataFrame:
    rows = []
    for (cat, street), per_month in PLAN.items():
        for month, n in zip(MONTHS, per_month, strict=True):
            start = pd.Period(month, freq="M").start_time
            for i in range(n):
                when = start + pd.Timedelta(days=i % 27, hours=20)
                rows.append((cat, when, -0.35, 53.74, None, True, street))
    return report_frame(rows)


@pytest.fixture(scope="module")
def reports() -> pd.DataFrame:
    return _reports()


# ------------------------------------------------------------------ periods


def test_months_and_quarters_are_published_other_ranges_refused():
    a, b = check_period("2025-05-03", "2025-05-20")
    assert (str(a), str(b)) == ("2025-05", "2025-05")
    assert tuple(map(str, check_period("2025-04-01", "2025-06-30"))) == ("2025-04", "2025-06")
    with pytest.raises(ValueError, match="one calendar month or one quarter") as info:
        check_period("2025-01-01", "2025-05-31")
    assert "January to May 2025" in str(info.value)
    with pytest.raises(ValueError, match="one calendar month or one quarter"):
        check_period("2025-02-01", "2025-04-30")  # three months, not a quarter
    with pytest.raises(ValueError, match="ends before it starts"):
        check_period("2025-05-01", "2025-01-01")


def test_a_supervisor_publishes_another_period_once_and_never_an_overlapping_one():
    a, b = check_period("2025-01-01", "2025-05-31", allow_custom=True)
    assert (str(a), str(b)) == ("2025-01", "2025-05")
    published = [("2025-01", "2025-05")]
    # Anyone may then ask for that period again; nobody for one that overlaps it.
    assert tuple(map(str, check_period("2025-01", "2025-05", custom_periods=published))) == (
        "2025-01",
        "2025-05",
    )
    with pytest.raises(ValueError, match="overlaps January to May 2025"):
        check_period("2025-01-01", "2025-04-30", custom_periods=published, allow_custom=True)


# ------------------------------------------------------------------ relations and the check


def test_relations_tie_periods_to_months_totals_to_categories_and_streets_to_totals():
    q = ("c", "welfare", "", "", "2025-01", "2025-03")
    tot = ("t", "*", "", "", "2025-01", "2025-01")
    cat = ("c", "welfare", "", "", "2025-01", "2025-01")
    street = ("t", "*", "Hessle Road", "", "2025-01", "2025-01")
    eqs, ineqs = relations([q, tot, cat, street])
    as_sets = [{(k, c) for k, c in row} for row in eqs]
    months = {("c", "welfare", "", "", m, m) for m in ("2025-01", "2025-02", "2025-03")}
    assert {(q, -1), *((m, 1) for m in months)} in as_sets
    assert {(tot, -1), (cat, 1)} in as_sets
    assert [{(street, 1), (tot, -1)}] == [set(r) for r in ineqs]


def test_a_figure_published_before_cannot_be_used_to_work_out_a_new_small_count():
    jan = ("c", "welfare", "", "", "2025-01", "2025-01")
    feb = ("c", "welfare", "", "", "2025-02", "2025-02")
    q = ("c", "welfare", "", "", "2025-01", "2025-03")
    mar = ("c", "welfare", "", "", "2025-03", "2025-03")
    from planning.impact_disclosure import PublishedCell

    # January (20) and February (12) were published; the quarter (33) would give March = 1.
    prior = [PublishedCell(jan, "shown", 20, T), PublishedCell(feb, "shown", 12, T)]
    alone = protect_release({q: 33, mar: 1}, threshold=T)
    assert alone.hidden == {mar}  # without the ledger the quarter looks harmless
    checked = protect_release({q: 33, mar: 1}, threshold=T, prior=prior)
    assert checked.hidden == {mar, q}


# ------------------------------------------------------------------ the differencing attack


def _functional(figs, key, index):
    """The published figure ``key`` of a summary as a row over the attacker's unknowns."""
    row = np.zeros(len(index))
    kind = key[0]
    single = kind in ("m", "mt")
    months = [str(key[-1])] if single else [str(m) for m in figs.periods[key[-1]]]
    cats = [key[1]] if kind in ("m", "p") else list(figs.categories)
    streets = [key[1]] if kind == "s" else None
    for (c, s, m), i in index.items():
        if c in cats and m in months and (streets is None or s in streets):
            row[i] = 1.0
    return row


def _attacker_ranges(released):
    """Solve the attacker's integer programme over every figure of every summary released.

    Unknowns: reports per category, street (each street listed anywhere, or "other") and
    month. Every shown figure is an equation, every "fewer than 10" lies in 1..9, every
    "not shown" is at least 10. Returns the whole-number range of each small count.
    """
    cats = sorted({c for f in released for c in f.categories})
    streets = [*sorted({s for f in released for s in f.streets}), "\x00other"]
    months = sorted({str(m) for f in released for ms in f.periods.values() for m in ms})
    index = {k: i for i, k in enumerate(itertools.product(cats, streets, months))}
    rows, lb, ub, small = [], [], [], {}
    for f in released:
        for key in f.values:
            if key[0] == "s_rest":
                continue
            row = _functional(f, key, index)
            rows.append(row)
            if key in f.primary:
                lb.append(1), ub.append(T - 1)
                entry = small.setdefault(row.tobytes(), (row, f.values[key], []))
                entry[2].append(key)
            elif key in f.hidden:
                lb.append(T), ub.append(np.inf)
            else:
                lb.append(f.values[key]), ub.append(f.values[key])
    cons = LinearConstraint(np.array(rows), lb, ub)
    ones = np.ones(len(index))
    out = []
    for row, value, keys in small.values():
        lo = milp(row, constraints=cons, integrality=ones, bounds=Bounds(0, np.inf))
        hi = milp(-row, constraints=cons, integrality=ones, bounds=Bounds(0, np.inf))
        assert lo.status == 0 and hi.status == 0, keys
        out.append((keys, value, round(lo.fun), round(-hi.fun)))
    return out


def test_differencing_over_every_range_of_six_months_recovers_nothing(reports, tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    months = pd.period_range("2025-01", "2025-06", freq="M")
    released, refused = [], []
    for a, b in itertools.combinations_with_replacement(months, 2):
        try:
            released.append(
                release_summary(
                    store, reports, start=a.start_time, end=b.end_time, settings=settings
                )
            )
        except ValueError as exc:
            assert "one calendar month or one quarter" in str(exc)
            refused.append((a, b))
    assert len(released) == 8 and len(refused) == 21 - 8  # six months and two quarters
    # A supervisor publishes January to May once; January to April then overlaps it.
    released.append(
        release_summary(
            store,
            reports,
            start="2025-01-01",
            end="2025-05-31",
            allow_custom=True,
            settings=settings,
        )
    )
    with pytest.raises(ValueError, match="overlaps January to May 2025"):
        release_summary(
            store,
            reports,
            start="2025-01-01",
            end="2025-04-30",
            allow_custom=True,
            settings=settings,
        )
    # A viewer may now ask for that period too, and for May again.
    released.append(
        release_summary(store, reports, start="2025-01", end="2025-05", settings=settings)
    )
    released.append(
        release_summary(store, reports, start="2025-05", end="2025-05", settings=settings)
    )

    ranges = _attacker_ranges(released)
    may = [r for r in ranges if ("m", "welfare_concern", pd.Period("2025-05", "M")) in r[0]]
    assert may, "May's welfare count (1) is shown as 'fewer than 10'"
    pinned = [r for r in ranges if r[2] == r[3]]
    assert not pinned, pinned
    # The per-street secret (Hessle Road in May: 1) is not recovered either.
    hessle = [r for r in ranges if any(k[:2] == ("s", "Hessle Road") for k in r[0]) and r[1] == 1]
    assert hessle and all(hi > lo for *_, lo, hi in hessle)
    # Nothing shown below the threshold, in any release.
    for f in released:
        for key, v in f.values.items():
            if f.published(key) is not None:
                assert v == 0 or v >= T, (f.period_label("this"), key, v)
    store.dispose()


def test_without_the_ledger_the_same_requests_give_may_away(reports, settings):
    """The attack works on summaries checked one at a time: the ledger is what stops it."""
    released = [
        summary_figures(reports, start=a, end=b, settings=settings)
        for a, b in [("2025-01-01", "2025-05-31"), ("2025-01-01", "2025-04-30")]
    ]
    ranges = _attacker_ranges(released)
    assert any(r[2] == r[3] for r in ranges), ranges


# ------------------------------------------------------------------ the ledger


def test_the_ledger_holds_keys_statuses_and_shown_values_only(reports, tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    figs = release_summary(store, reports, start="2025-05-01", end="2025-05-31", settings=settings)
    with store.engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("published_figures")}
        rows = pd.read_sql(sa.select(published_figures), conn)
    assert cols == {
        "id", "release_id", "area", "kind", "category", "street", "tag",
        "first_month", "last_month", "status", "value", "threshold",
    }  # fmt: skip
    assert len(rows) == len(figs.cells) > 0
    assert rows.loc[rows["status"] != "shown", "value"].isna().all()
    assert set(rows["status"]) == {"shown", "fewer", "withheld"}
    small = rows.loc[(rows["status"] == "shown") & (rows["value"] > 0), "value"]
    assert (small >= T).all()
    assert published_cells(store) and not published_cells(store, area="Elsewhere")
    # Asking for the same month again gives the same figures and records no new release.
    again = release_summary(store, reports, start="2025-05-01", end="2025-05-31", settings=settings)
    assert again.cells == figs.cells
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(published_releases)).scalar_one()
    assert n == 1
    store.dispose()


def test_figures_the_data_no_longer_matches_are_counted_as_stale(reports, tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    release_summary(store, reports, start="2025-05-01", end="2025-05-31", settings=settings)
    late = report_frame(
        [("needles", datetime(2025, 5, 3, 21), -0.35, 53.74, None, True, "Anlaby Road")] * 3
    ).assign(report_id=["late1", "late2", "late3"])
    figs = release_summary(
        store,
        pd.concat([reports, late], ignore_index=True),
        start="2025-06-01",
        end="2025-06-30",
        settings=settings,
    )
    assert figs.stale > 0 and figs.exposed == 0
    store.dispose()


def test_areas_keep_their_own_ledgers(reports, tmp_path, settings):
    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    release_summary(store, reports, start="2025-01-01", end="2025-05-31", allow_custom=True,
                    settings=settings, area="Hull")  # fmt: skip
    with pytest.raises(ValueError, match="one calendar month or one quarter"):
        release_summary(store, reports, start="2025-01-01", end="2025-05-31", settings=settings,
                        area="Leeds")  # fmt: skip
    release_summary(store, reports, start="2025-01-01", end="2025-05-31", settings=settings,
                    area="Hull")  # fmt: skip
    assert published_cells(store, area="Hull")
    assert published_cells(store, area="Leeds") == []
    store.dispose()


def test_cli_summary_publishes_months_and_quarters_and_refuses_other_ranges(
    reports, tmp_path, capsys
):
    from cli import main
    from tests.test_store import _add

    db = tmp_path / "cli.db"
    store = Store(str(db))
    _add(store, reports)
    store.dispose()
    base = ["--db", str(db), "summary", "--out", str(tmp_path / "s.html")]
    assert main([*base, "--from", "2025-01-01", "--to", "2025-05-31"]) == 2
    err = capsys.readouterr().err
    assert "one calendar month or one quarter" in err and "Traceback" not in err
    assert main([*base, "--from", "2025-04-01", "--to", "2025-06-30"]) == 0
    capsys.readouterr()
    assert main([*base, "--from", "2025-01-01", "--to", "2025-05-31", "--new-period"]) == 0
    capsys.readouterr()
    store = Store(str(db))
    from geo.areas import resolve_area

    area_id = resolve_area(store).area_id
    assert ("2025-01", "2025-05") in [
        (c.key[4], c.key[5]) for c in published_cells(store, area=area_id) if c.key[0] == "t"
    ]
    store.dispose()


def test_community_page_lets_a_supervisor_publish_another_period_once():
    from streamlit.testing.v1 import AppTest

    from tests.test_app_outputs import COMMUNITY, _seed

    _seed()
    at = AppTest.from_file(COMMUNITY, default_timeout=60)
    at.run()
    assert not at.exception
    jan, feb = pd.Period("2025-01", freq="M"), pd.Period("2025-02", freq="M")
    at.selectbox(key="community_own_a").set_value(jan)
    at.selectbox(key="community_own_b").set_value(feb)
    at.button(key="community_publish").click().run()
    assert not at.exception
    assert "January to February 2025" in at.get("iframe")[0].proto.srcdoc
    # Offered to everyone from now on; an overlapping period is refused with a plain message.
    at.run()
    assert "Published period" in at.radio(key="community_kind").options
    at.selectbox(key="community_own_a").set_value(feb)
    at.selectbox(key="community_own_b").set_value(pd.Period("2025-03", freq="M"))
    at.button(key="community_publish").click().run()
    assert any("overlaps January to February 2025" in e.value for e in at.error)
