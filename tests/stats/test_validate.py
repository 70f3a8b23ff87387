"""The Monte Carlo validation module runs and shows what it should (small replication
counts; the full-size run is ``python -m stats.validate``, reported in docs/statistics.md)."""

import numpy as np

from stats import validate


def test_type_i_table_separates_designs_from_naive_peeking():
    rows = {r.design: r for r in validate.type_i_table(np.random.default_rng(0), 3000)}
    assert 0.03 < rows["Lan-DeMets O'Brien-Fleming"].type_i < 0.07
    assert rows["naive z-test peeked at every look"].type_i > 0.12
    assert rows["always-valid confidence sequence"].type_i < 0.05


def test_render_produces_markdown_tables():
    rng = np.random.default_rng(1)
    text = validate.render(
        validate.type_i_table(rng, 500),
        validate.default_design_table(rng, 500)[0],
        validate.coverage_table(rng, 500),
        validate.end_to_end(rng, 5),
        500,
        5,
        1.0,
    )
    assert "| design | looks | type I error |" in text
    assert "committee default" in text
