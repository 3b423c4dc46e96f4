"""The dask executor's options, checked at compile time without importing distributed."""

from __future__ import annotations

from psr_engine.executors.dask import validate_options


def test_good_options_pass():
    assert (
        validate_options(
            {
                "address": "tcp://scheduler:8786",
                "connectTimeout": "5s",
                "sharedFilesystem": False,
                "staging": {"url": "s3://bucket/prefix", "threshold": "4Mi"},
            }
        )
        == []
    )


def test_each_bad_option_is_named():
    problems = dict(
        validate_options(
            {"address": "http://x:1", "connectTimeout": 0, "staging": {"url": "gs://b/p"}}
        )
    )
    assert "schemes" in problems["address"]
    assert "more than 0" in problems["connectTimeout"]
    assert "s3://bucket/prefix" in problems["staging.url"]
